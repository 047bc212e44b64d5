"""The ingest HTTP API (CONTRACT §4)."""
