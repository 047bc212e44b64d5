"""The three workers. Each stage is a pure function of (batch, database connection)
in its own module; :mod:`oaken.workers.loop` runs any of them against Kafka, and
:mod:`oaken.ingest` chains all three in one transaction for bulk imports."""
