"""Which large BigQuery tables a SQL statement reads without a constant partition filter.

BigQuery prunes partitions only on constant expressions over the partitioning column
(a literal, a cast of one, a list of them), written where the table is read: a join or
a subquery prunes nothing. The cost-guard test of live mode parses every query job a
micro-batch sent to the emulator with sqlglot and asks, for each reference to a large
table (or a view over one), whether the WHERE of the select that reads it (or the ON of
its join, or of a MERGE into it, or the WHERE of a DELETE from it) restricts its
partition column by constants. This checks the SQL sent, not the bytes billed: the
emulator neither prunes nor bills.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp


@dataclass(frozen=True)
class Large:
    """A large table, or a view that passes a filter on ``column`` down to one."""

    dataset: str
    name: str
    column: str  # the partition column, as the reader sees it


def constant(node: exp.Expression) -> bool:
    return not list(node.find_all(exp.Column, exp.Select))


def on_column(node: exp.Expression, column: str, names: set[str]) -> bool:
    """``node`` is the partition column, or a function of it alone (date_trunc, cast)."""
    columns = list(node.find_all(exp.Column))
    return (bool(columns) and not list(node.find_all(exp.Select))
            and all(c.name.lower() == column and (not c.table or c.table.lower() in names)
                    for c in columns))


def restricts(node: exp.Expression | None, column: str, names: set[str]) -> bool:
    """True if every row ``node`` admits lies in partitions named by constants."""
    if node is None:
        return False
    if isinstance(node, exp.Paren):
        return restricts(node.this, column, names)
    if isinstance(node, exp.Boolean):
        return node.this is False
    if isinstance(node, exp.And):
        return restricts(node.left, column, names) or restricts(node.right, column, names)
    if isinstance(node, exp.Or):
        return restricts(node.left, column, names) and restricts(node.right, column, names)
    if isinstance(node, (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ)):
        left, right = node.left, node.right
        return ((on_column(left, column, names) and constant(right))
                or (on_column(right, column, names) and constant(left)))
    if isinstance(node, exp.In):
        values = node.expressions
        return (on_column(node.this, column, names) and not node.args.get("query")
                and bool(values) and all(constant(v) for v in values))
    if isinstance(node, exp.Between):
        return (on_column(node.this, column, names) and constant(node.args["low"])
                and constant(node.args["high"]))
    return False


def identify(table: exp.Table, large: list[Large]) -> Large | None:
    for candidate in large:
        if (table.name.lower() == candidate.name
                and (table.db or "").lower() == candidate.dataset):
            return candidate
    return None


def unrestricted_reads(sql: str, large: list[Large]) -> list[str]:
    """``dataset.table`` of each read of a large table in ``sql`` that no constant
    partition predicate restricts."""
    found: list[str] = []
    for statement in sqlglot.parse(sql, read="bigquery"):
        if statement is None:
            continue
        if isinstance(statement, exp.Create) and str(statement.args.get("kind")).upper() == "VIEW":
            continue  # defining a view reads nothing
        for table in statement.find_all(exp.Table):
            table_ = identify(table, large)
            if table_ is None:
                continue
            names = {table_.name, (table.alias or "").lower()} - {""}
            parent = table.parent
            if isinstance(parent, exp.Merge) and parent.this is table:
                if not restricts(parent.args.get("on"), table_.column, names):
                    found.append(f"{table_.dataset}.{table_.name} (merge target)")
                continue
            if isinstance(parent, exp.Delete) and parent.this is table:
                where = parent.args.get("where")
                if not restricts(where and where.this, table_.column, names):
                    found.append(f"{table_.dataset}.{table_.name} (delete target)")
                continue
            if isinstance(parent, (exp.Create, exp.Insert, exp.Schema)):
                continue  # written, not read
            select = table.find_ancestor(exp.Select)
            join = table.find_ancestor(exp.Join)
            checks = []
            if select is not None:
                checks.append(select.args.get("where") and select.args["where"].this)
            if join is not None and (select is None or join.find_ancestor(exp.Select) is select):
                checks.append(join.args.get("on"))
            if not any(restricts(c, table_.column, names) for c in checks):
                found.append(f"{table_.dataset}.{table_.name}")
    return found
