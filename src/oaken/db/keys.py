"""Key columns: text that compares exactly, byte for byte, on every database.

SQLite compares text with ``BINARY`` and PostgreSQL with a deterministic collation, so
``INV-1`` and ``inv-1`` are two keys there. MariaDB/MySQL compare with the column's
collation, and the server default (``utf8mb4_general_ci``) is case- and
accent-insensitive: there they would be one key, and the second sale a
``1062 Duplicate entry``. So every key column (and every column pointing at one) is a
:class:`Key`: ``VARCHAR(n)`` with a binary, NO PAD collation on MariaDB/MySQL
(:func:`binary_collation`), plain ``VARCHAR(n)`` elsewhere. Names and descriptions stay
plain :class:`~sqlalchemy.String` with the server's default collation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: MySQL 8.0.17 added ``utf8mb4_0900_bin``, its first binary NO PAD utf8mb4 collation
MYSQL_NO_PAD_SINCE = (8, 0, 17)


def binary_collation(dialect: Dialect) -> str:
    """The binary, NO PAD (``'a' <> 'a '``) utf8mb4 collation of a MariaDB/MySQL server.

    MariaDB: ``utf8mb4_nopad_bin`` (its ``utf8mb4_bin`` is PAD SPACE). MySQL:
    ``utf8mb4_0900_bin`` from 8.0.17 on (also when the version is not known yet, as when
    compiling DDL without a connection); before that only the PAD SPACE ``utf8mb4_bin``
    exists, which differs only for trailing spaces, and the contract trims those.
    """
    if getattr(dialect, "is_mariadb", False):
        return "utf8mb4_nopad_bin"
    version = dialect.server_version_info
    if version is not None and tuple(version[:3]) < MYSQL_NO_PAD_SINCE:
        return "utf8mb4_bin"
    return "utf8mb4_0900_bin"


class Key(TypeDecorator[str]):
    """``VARCHAR(length)`` compared exactly: binary NO PAD collation on MariaDB/MySQL."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)

    @property
    def length(self) -> int:
        length = getattr(self.impl_instance, "length", None)
        assert isinstance(length, int)
        return length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(
                mysql.VARCHAR(self.length, collation=binary_collation(dialect)))
        return dialect.type_descriptor(self.impl_instance)

    def __repr__(self) -> str:
        return f"Key({self.length})"
