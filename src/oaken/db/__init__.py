"""The single source of truth: models, engine, migrations and the batch writes."""
