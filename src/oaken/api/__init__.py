"""The ingest HTTP API (docs/reference.md, "HTTP API")."""
