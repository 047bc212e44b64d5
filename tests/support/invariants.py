"""The invariants (docs/reference.md, "Invariants"), checked with raw SQL against the
source of truth, as the shipping and accounting applications read it
(docs/architecture.md, "Money in the database")."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import Engine, text

CENT = Decimal("0.01")


def money_reader(engine: Engine) -> Callable[[object], Decimal]:
    """How money read with raw SQL becomes ``Decimal`` exactly (None as 0.00): SQLite
    answers integers of hundredths (sums too), the other databases exact DECIMAL."""
    if engine.dialect.name == "sqlite":
        def hundredths(value: object) -> Decimal:
            value = value or 0
            assert type(value) is int, f"money on SQLite must be integer hundredths: {value!r}"
            return Decimal(value).scaleb(-2)
        return hundredths

    def decimal(value: object) -> Decimal:
        value = value or Decimal("0.00")
        assert isinstance(value, Decimal), f"money must be an exact DECIMAL: {value!r}"
        return value.quantize(CENT)
    return decimal


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("sales", "shipments", "journal_entries", "journal_lines")
        }


def drained(engine: Engine, expected_sales: int) -> bool:
    found = counts(engine)
    return (found["sales"] == expected_sales and found["shipments"] == expected_sales
            and found["journal_entries"] == 2 * expected_sales)


def assert_invariants(engine: Engine, expected: dict[str, Decimal]) -> None:
    """``expected`` maps each valid, distinct invoice line id to its sale dollars."""
    money = money_reader(engine)
    with engine.connect() as connection:
        sales = dict(connection.execute(
            text("SELECT invoice_line_id, sale_dollars FROM sales")).all())
        assert {k: money(v) for k, v in sales.items()} == expected
        shipped = connection.execute(text(
            "SELECT count(*), count(DISTINCT invoice_line_id) FROM shipments")).one()
        assert tuple(shipped) == (len(expected), len(expected))
        orphans = connection.execute(text(
            "SELECT count(*) FROM shipments s LEFT JOIN sales x "
            "ON x.invoice_line_id = s.invoice_line_id WHERE x.invoice_line_id IS NULL"
        )).scalar_one()
        assert orphans == 0
        per_sale = dict(connection.execute(text(
            "SELECT source, count(*) FROM journal_entries GROUP BY source")).all())
        assert per_sale == ({"sale": len(expected), "shipment": len(expected)}
                            if expected else {})
        entries_per_line = connection.execute(text(
            "SELECT max(n) FROM (SELECT invoice_line_id, count(*) AS n FROM journal_entries "
            "GROUP BY invoice_line_id) t")).scalar_one()
        assert entries_per_line in (None, 2)
        debit, credit = connection.execute(text(
            "SELECT sum(debit), sum(credit) FROM journal_lines")).one()
        assert money(debit) == money(credit)
        unbalanced = connection.execute(text(
            "SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id "
            "HAVING sum(debit) <> sum(credit)) t")).scalar_one()
        assert unbalanced == 0
        receivable = connection.execute(text(
            "SELECT sum(debit) FROM journal_lines WHERE account_code = '1100'")).scalar_one()
        assert money(receivable) == sum(expected.values(), Decimal("0.00"))
        freight = connection.execute(text(
            "SELECT sum(shipping_cost) FROM shipments")).scalar_one()
        posted = connection.execute(text(
            "SELECT sum(debit) FROM journal_lines WHERE account_code = '5100'")).scalar_one()
        assert money(freight) == money(posted)
