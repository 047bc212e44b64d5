"""The project's exceptions. The CLI catches :class:`OakenError` and prints one line.

    OakenError
    ├── ConfigError          a setting is missing or wrong
    ├── BrokerError          the Kafka broker cannot be started or reached
    ├── DatabaseError        the database cannot be reached or migrated
    └── ContractError        a sale message breaks data contract v1 (names the fields)
"""

from __future__ import annotations


class OakenError(Exception):
    """Base of every expected error."""


class ConfigError(OakenError):
    pass


class BrokerError(OakenError):
    pass


class DatabaseError(OakenError):
    pass


class ContractError(OakenError):
    """A sale message is invalid; ``errors`` lists one message per bad field."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


# --- analytics (append-only) ------------------------------------------------
#
#   OakenError
#   └── AnalyticsError       extract/load, dbt, forecasts or retention failed
#       ├── WarehouseError   the warehouse is missing, unreachable or misconfigured
#       ├── TransformError   dbt parse/build failed (names the failing nodes)
#       └── ArchiveError     retention refused or failed


class AnalyticsError(OakenError):
    pass


class WarehouseError(AnalyticsError):
    pass


class TransformError(AnalyticsError):
    pass


class ArchiveError(AnalyticsError):
    pass
