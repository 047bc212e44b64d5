"""Readers never wait for the writer: each analytics run publishes a read-only copy.

DuckDB lets one process write a file and no other process open it meanwhile, so a
dashboard page used to say "the warehouse is being rebuilt" while ``oaken analytics``
ran, and an open page (a reader's shared lock) kept the next run from writing. After
every successful run (``oaken analytics``, each live micro-batch) the writer
checkpoints the warehouse and copies it to ``<name>.read.duckdb`` beside it: copied to
a temporary name, then renamed over the old copy in one step, so a reader opens either
the previous copy or the new one, never half of one, and a reader still on the old copy
keeps reading it (an open file outlives its name on POSIX). The dashboard opens the
newest copy (:class:`~oaken.warehouse.duckdb_adapter.DuckDBWarehouse` with
``readers_copy``), never the file being written.

The copy is made with ``copy_file_range`` (in the kernel; on a file system with
reflinks, such as XFS or Btrfs, no data is copied at all). BigQuery needs none of this.
"""

from __future__ import annotations

import os
from pathlib import Path

from oaken.warehouse.config import WarehouseConfig, duckdb_config

SUFFIX = ".read"
_CHUNK = 1 << 30


def published_path(path: Path) -> Path:
    """``…/warehouse.duckdb`` → ``…/warehouse.read.duckdb``."""
    return path.with_name(f"{path.stem}{SUFFIX}{path.suffix}")


def publish(config: WarehouseConfig) -> Path | None:
    """Checkpoint the DuckDB warehouse and publish its read-only copy (None: not DuckDB,
    or no warehouse yet). The writer's connection is held during the copy, so no other
    writer can change the file underneath."""
    if config.kind != "duckdb" or config.path is None or not config.path.exists():
        return None
    import duckdb

    target = published_path(config.path)
    spare = target.with_name(f"{target.name}.publishing")
    settings: dict = duckdb_config(config)
    with duckdb.connect(str(config.path), config=settings) as connection:
        connection.execute("checkpoint")
        _copy(config.path, spare)
    os.replace(spare, target)
    return target


def _copy(source: Path, target: Path) -> None:
    with source.open("rb") as reading, target.open("wb") as writing:
        size = os.fstat(reading.fileno()).st_size
        offset = 0
        while offset < size:
            done = os.copy_file_range(reading.fileno(), writing.fileno(),
                                      min(_CHUNK, size - offset), offset, offset)
            if done == 0:
                break
            offset += done
        writing.flush()
        os.fsync(writing.fileno())
