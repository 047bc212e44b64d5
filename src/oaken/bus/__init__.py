"""Kafka plumbing: the embedded broker, topic names, client configuration."""
