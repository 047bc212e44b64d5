"""SQLAlchemy 2 models of the source of truth (docs/reference.md, "Tables").

The same schema runs on SQLite, MariaDB/MySQL and PostgreSQL. Money (and
``volume_liters``, also two places) is ``Decimal`` with two places in Python:
``NUMERIC(12, 2)`` on sale lines and ``NUMERIC(14, 2)`` in the ledger on MariaDB/MySQL
and PostgreSQL, an ``INTEGER`` of hundredths on SQLite (:mod:`oaken.db.money`). Every
table carries ``updated_at`` so extract/load can move only new or changed rows.
``sales.published`` and ``shipments.published`` are the outbox flags: a row is
written unpublished in the worker's batch transaction and flagged once its downstream
event is acknowledged by the broker, so a crash in between is repaired on redelivery.
Keys (ids, codes, and the columns pointing at them) are :class:`~oaken.db.keys.Key`:
compared exactly, byte for byte, on every database (a binary NO PAD collation on
MariaDB/MySQL); names and descriptions keep the server's default collation.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from oaken.db.keys import Key
from oaken.db.money import Money

#: naive UTC; microseconds on MySQL/MariaDB too (their DATETIME keeps whole seconds)
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LineMoney = Money(12)
LedgerMoney = Money(14)
Text = String(255)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Store(Base):
    __tablename__ = "stores"
    store_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    store_name: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    zip_code: Mapped[str | None] = mapped_column(Text)
    county_number: Mapped[int | None] = mapped_column(Integer)
    county: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Vendor(Base):
    __tablename__ = "vendors"
    vendor_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    vendor_name: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Category(Base):
    __tablename__ = "categories"
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    category_name: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Product(Base):
    """An item as last sold: a price change updates it; each sale keeps its own price."""

    __tablename__ = "products"
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.category_id"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.vendor_id"))
    pack: Mapped[int | None] = mapped_column(Integer)
    bottle_volume_ml: Mapped[int | None] = mapped_column(Integer)
    bottle_cost: Mapped[Decimal | None] = mapped_column(LineMoney)
    bottle_retail: Mapped[Decimal | None] = mapped_column(LineMoney)
    price_date: Mapped[date | None] = mapped_column(Date, comment="sale date of the current price")
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Position(Base):
    __tablename__ = "positions"
    position_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Employee(Base):
    __tablename__ = "employees"
    employee_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.position_id"))
    hired_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Sale(Base):
    """One sale line, exactly as sold (price, pack and volume at the time of sale)."""

    __tablename__ = "sales"
    invoice_line_id: Mapped[str] = mapped_column(Key(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(Key(64))
    sale_date: Mapped[date] = mapped_column(Date, index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.store_id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("products.item_id"))
    vendor_id: Mapped[int | None] = mapped_column(Integer)
    category_id: Mapped[int | None] = mapped_column(Integer)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.employee_id"))
    pack: Mapped[int | None] = mapped_column(Integer)
    bottle_volume_ml: Mapped[int | None] = mapped_column(Integer)
    bottle_cost: Mapped[Decimal | None] = mapped_column(LineMoney)
    bottle_retail: Mapped[Decimal | None] = mapped_column(LineMoney)
    bottles_sold: Mapped[int] = mapped_column(Integer)
    sale_dollars: Mapped[Decimal] = mapped_column(LineMoney)
    volume_liters: Mapped[Decimal | None] = mapped_column(LineMoney)
    state: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    #: how the sale entered: an API key's name, ``replay:<file>``, ``import:<file>``;
    #: NULL for sales recorded before revision 0006 (oaken.provenance)
    sent_by: Mapped[str | None] = mapped_column(Text)


class Shipment(Base):
    __tablename__ = "shipments"
    invoice_line_id: Mapped[str] = mapped_column(
        ForeignKey("sales.invoice_line_id"), primary_key=True
    )
    sale_date: Mapped[date] = mapped_column(Date)
    ship_date: Mapped[date] = mapped_column(Date)
    shipping_cost: Mapped[Decimal] = mapped_column(LineMoney)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Account(Base):
    __tablename__ = "accounts"
    account_code: Mapped[str] = mapped_column(Key(8), primary_key=True)
    account_name: Mapped[str] = mapped_column(Text)
    account_type: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class JournalEntry(Base):
    """One balanced business event; the id is derived from it (``sale:<line>``, ``ship:<line>``)."""

    __tablename__ = "journal_entries"
    entry_id: Mapped[str] = mapped_column(Key(80), primary_key=True)
    entry_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    invoice_line_id: Mapped[str] = mapped_column(Key(64), index=True)
    memo: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class JournalLine(Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0", name="non_negative"),
        CheckConstraint("debit = 0 OR credit = 0", name="one_side"),
    )
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("journal_entries.entry_id"), primary_key=True
    )
    account_code: Mapped[str] = mapped_column(
        ForeignKey("accounts.account_code"), primary_key=True
    )
    debit: Mapped[Decimal] = mapped_column(LedgerMoney)
    credit: Mapped[Decimal] = mapped_column(LedgerMoney)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


#: a Kafka message's bytes (up to the broker's limit; BLOB stops at 64 KiB on MariaDB/MySQL)
Bytes = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
DEAD_LETTER_STATUSES = ("open", "replayed", "discarded")


class DeadLetter(Base):
    """A message a worker could not take: its bytes, where it came from, and why.

    Written in the transaction of the batch that refused it. ``(cluster_id, source_topic,
    source_partition, source_offset, stage)`` names one delivery: the embedded broker
    starts again from offset 0 with a new cluster id after a restart, and the same
    message of ``sales.recorded`` can be refused by shipping and by accounting.
    """

    __tablename__ = "dead_letters"
    __table_args__ = (
        UniqueConstraint("cluster_id", "source_topic", "source_partition", "source_offset",
                         "stage", name="uq_dead_letters_delivery"),
        CheckConstraint("status IN ('open', 'replayed', 'discarded')", name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(String(1000))
    payload: Mapped[bytes] = mapped_column(Bytes)
    message_key: Mapped[bytes | None] = mapped_column(LargeBinary())
    source_topic: Mapped[str] = mapped_column(Key(249))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(BigInteger)
    cluster_id: Mapped[str] = mapped_column(Key(64))
    stage: Mapped[str] = mapped_column(String(16))
    sent_by: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")
    status_changed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    status_changed_by: Mapped[str | None] = mapped_column(Text)
    discard_reason: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class ApiKey(Base):
    """A key of the ingest API (:mod:`oaken.keys`): only its SHA-256 is stored. Kept after
    revocation (``revoked_at``); never extracted to the warehouse."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(Key(16), primary_key=True)
    name: Mapped[str] = mapped_column(Key(64), index=True)
    key_hash: Mapped[str] = mapped_column(Key(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


def _table(model: type[Base]) -> Table:
    """The mapped class's Core table, typed as one (``__table__`` is a ``FromClause``)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


stores = _table(Store)
vendors = _table(Vendor)
categories = _table(Category)
products = _table(Product)
positions = _table(Position)
employees = _table(Employee)
sales = _table(Sale)
shipments = _table(Shipment)
accounts = _table(Account)
journal_entries = _table(JournalEntry)
journal_lines = _table(JournalLine)
dead_letters = _table(DeadLetter)
api_keys = _table(ApiKey)
