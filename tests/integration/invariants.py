"""CONTRACT §6 invariants, checked with SQL against the source of truth."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, text

CENT = Decimal("0.01")


def money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


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
