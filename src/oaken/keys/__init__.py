"""The ingest API's keys: one or two per application, only their SHA-256 stored
(:mod:`oaken.keys.store`), and the ``oaken keys`` commands (:mod:`oaken.keys.cli`)."""
