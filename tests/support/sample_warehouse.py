"""A warehouse built from synthetic sales, for the dashboard's tests and benchmark.

:func:`build_sample_warehouse` does what a user does, minus Kafka: migrate a SQLite
database under ``home``, backfill it with ``oaken import``'s code path
(:func:`oaken.ingest.import_records` over :func:`oaken.sources.generator.iter_sales`),
then run ``oaken analytics`` (:func:`oaken.analytics.runner.run_analytics`: dlt → dbt
build → forecasts) into ``home/warehouse.duckdb``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from oaken.sources.generator import DEFAULT_END, DEFAULT_START

#: the sender of every sale of the sample (``oaken import`` of a file of this name)
SENDER = "import:sample.csv"


@dataclass(frozen=True)
class SampleWarehouse:
    home: Path
    database_url: str
    warehouse_url: str
    rows: int
    import_seconds: float
    analytics_seconds: float

    @property
    def path(self) -> Path:
        return self.home / "warehouse.duckdb"

    def environment(self) -> dict[str, str]:
        """The OAKEN_* variables that point a process (``oaken dashboard``) at it."""
        return {"OAKEN_HOME": str(self.home), "OAKEN_DATABASE_URL": self.database_url,
                "OAKEN_WAREHOUSE": self.warehouse_url}


def build_sample_warehouse(
    home: Path, *, rows: int, seed: int = 7, start: date = DEFAULT_START,
    end: date = DEFAULT_END, batch_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> SampleWarehouse:
    """Import ``rows`` synthetic sales into a fresh database under ``home`` and build the
    warehouse with settings of its own (the environment is neither read for these three
    nor changed)."""
    from oaken.analytics.runner import run_analytics
    from oaken.db.engine import make_engine
    from oaken.db.migrate import migrate
    from oaken.ingest import import_records
    from oaken.settings import Settings
    from oaken.sources.generator import iter_sales

    home = Path(home).absolute()
    home.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{home / 'oaken.db'}"
    warehouse_url = f"duckdb:///{home / 'warehouse.duckdb'}"
    settings = Settings(home=home, database_url=database_url, warehouse=warehouse_url)
    started = time.perf_counter()
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        report = import_records(
            engine, iter_sales(rows, seed=seed, start=start, end=end, style="compact"),
            batch_size=batch_size, progress=progress, sent_by=SENDER)
    finally:
        engine.dispose()
    imported = time.perf_counter()
    if report.imported == 0:
        raise RuntimeError(f"no synthetic sales were imported: {report.problems[:3]}")
    run_analytics(settings)
    finished = time.perf_counter()
    return SampleWarehouse(home, database_url, warehouse_url, report.imported,
                           round(imported - started, 2), round(finished - imported, 2))


def shared_sample_warehouse(directory: Path, **build: object) -> SampleWarehouse:
    """:func:`build_sample_warehouse` into ``directory`` once; later calls with the same
    arguments reuse it (the tests' modules share one build per pytest session)."""
    import json

    directory = Path(directory)
    marker = directory / "sample.json"
    key = {name: str(value) for name, value in sorted(build.items())}
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("key") == key:
            return SampleWarehouse(home=Path(saved["home"]), **saved["fields"])
    sample = build_sample_warehouse(directory, **build)  # type: ignore[arg-type]
    fields = {"database_url": sample.database_url, "warehouse_url": sample.warehouse_url,
              "rows": sample.rows, "import_seconds": sample.import_seconds,
              "analytics_seconds": sample.analytics_seconds}
    marker.write_text(json.dumps({"key": key, "home": str(sample.home), "fields": fields}))
    return sample
