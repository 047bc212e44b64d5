"""Key columns: the binary NO PAD collation chosen per server, and the DDL it gives."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.schema import CreateTable

from oaken.db.keys import Key, binary_collation


def _mysql(version: tuple[int, ...] | None, *, mariadb: bool = False) -> mysql.dialect:
    dialect = mysql.dialect()
    dialect.server_version_info = version
    dialect.is_mariadb = mariadb
    return dialect


@pytest.mark.parametrize(("version", "mariadb", "collation"), [
    ((10, 11, 19), True, "utf8mb4_nopad_bin"),
    ((10, 6, 0), True, "utf8mb4_nopad_bin"),
    ((8, 0, 17), False, "utf8mb4_0900_bin"),
    ((8, 4, 3), False, "utf8mb4_0900_bin"),
    ((8, 0, 16), False, "utf8mb4_bin"),
    (None, False, "utf8mb4_0900_bin"),
])
def test_binary_collation_per_server(version, mariadb, collation) -> None:
    assert binary_collation(_mysql(version, mariadb=mariadb)) == collation


def test_a_key_column_is_binary_on_mariadb_and_plain_elsewhere() -> None:
    table = Table("t", MetaData(), Column("k", Key(64), primary_key=True))
    ddl = {name: str(CreateTable(table).compile(dialect=dialect))
           for name, dialect in (("mariadb", _mysql((10, 11, 19), mariadb=True)),
                                 ("sqlite", sqlite.dialect()),
                                 ("postgresql", postgresql.dialect()))}
    assert "k VARCHAR(64) COLLATE utf8mb4_nopad_bin NOT NULL" in ddl["mariadb"]
    assert "k VARCHAR(64) NOT NULL" in ddl["sqlite"]
    assert "k VARCHAR(64) NOT NULL" in ddl["postgresql"]
