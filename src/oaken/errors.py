"""The project's exceptions, all of them. The CLI catches :class:`OakenError` and
prints one line.

    OakenError
    ├── ConfigError              a setting is missing or wrong
    ├── BrokerError              the Kafka broker cannot be started or reached
    ├── DatabaseError            the database cannot be reached or migrated
    ├── ContractError            a sale message breaks data contract v1 (names the fields)
    ├── JournalFull              the API's journal holds its maximum (oaken.api.journal)
    ├── ApiKeyError              an API key command was refused (oaken.keys)
    ├── JournalUnwritable        the API's journal cannot be written (disk full, I/O error)
    ├── ReplayInterrupted        `oaken replay` stopped before every record was taken
    └── AnalyticsError           extract/load, dbt, forecasts or retention failed
        ├── WarehouseError       the warehouse is missing, unreachable or misconfigured
        │   ├── WarehouseMissing no warehouse file, or a table asked for is not in it
        │   ├── WarehouseEmpty   the marts exist but hold no sales
        │   └── WarehouseBusy    DuckDB: another process holds the write lock
        ├── TransformError       dbt parse/build failed (names the failing nodes)
        └── ArchiveError         retention refused or failed
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


class ReplayInterrupted(OakenError):
    """``oaken replay`` stopped before the orders worker had taken every record."""


class JournalFull(OakenError):
    """The API's journal holds ``OAKEN_JOURNAL_MAX_RECORDS`` records: the broker or the
    orders worker is not keeping up, or is away."""


class ApiKeyError(OakenError):
    """A key command was refused: a bad name, a third key for one name, no such key."""


class JournalUnwritable(OakenError):
    """The API's journal cannot be written now (typically the disk of ``OAKEN_HOME`` is
    full): the records were not stored, and the client is asked to send them again."""


class AnalyticsError(OakenError):
    pass


class WarehouseError(AnalyticsError):
    pass


class TransformError(AnalyticsError):
    pass


class ArchiveError(AnalyticsError):
    pass


class WarehouseMissing(WarehouseError):
    pass


class WarehouseEmpty(WarehouseError):
    pass


class WarehouseBusy(WarehouseError):
    pass
