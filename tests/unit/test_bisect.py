"""Finding the records a database refuses by halving the batch (oaken.workers.bisect)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from oaken.workers.bisect import Refused, bisect


class Database:
    """Refuses any part that holds a poison item; records what each committed part wrote."""

    def __init__(self, poison: set[int]) -> None:
        self.poison = poison
        self.committed: list[list[int]] = []
        self.transactions = 0

    def write(self, part: Sequence[int]) -> list[int]:
        self.transactions += 1
        bad = sorted(self.poison.intersection(part))
        if bad:
            raise Refused(f"refused {bad[0]}")
        self.committed.append(list(part))
        return list(part)


def test_a_clean_batch_is_one_transaction() -> None:
    db = Database(set())
    found = bisect(list(range(100)), db.write)
    assert found.offenders == []
    assert found.results == [list(range(100))]
    assert db.transactions == found.attempts == 1


@pytest.mark.parametrize("size", [2, 3, 7, 100, 500, 501])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_one_poison_is_isolated_and_everything_else_written(size: int, where: str) -> None:
    poison = {"first": 0, "middle": size // 2, "last": size - 1}[where]
    db = Database({poison})
    found = bisect(list(range(size)), db.write)
    assert found.offenders == [(poison, f"refused {poison}")]
    written = [item for part in found.results for item in part]
    assert written == [i for i in range(size) if i != poison]  # every other, in order
    assert db.committed == found.results
    # each level of the halving runs two transactions at most
    assert db.transactions <= 1 + 2 * math.ceil(math.log2(size))


def test_several_poisons_each_with_its_own_reason() -> None:
    poison = {3, 4, 50, 99}
    db = Database(poison)
    found = bisect(list(range(100)), db.write)
    assert found.offenders == [(p, f"refused {p}") for p in sorted(poison)]
    written = sorted(item for part in found.results for item in part)
    assert written == sorted(set(range(100)) - poison)


def test_a_batch_of_only_poison_writes_nothing() -> None:
    db = Database({0, 1, 2})
    found = bisect([0, 1, 2], db.write)
    assert [item for item, _ in found.offenders] == [0, 1, 2]
    assert found.results == [] and db.committed == []


def test_an_empty_batch_runs_no_transaction() -> None:
    db = Database(set())
    found = bisect([], db.write)
    assert (found.results, found.offenders, db.transactions) == ([], [], 0)


def test_other_errors_propagate_and_are_not_bisected() -> None:
    calls = []

    def away(part: Sequence[int]) -> None:
        calls.append(list(part))
        raise ConnectionError("database away")

    with pytest.raises(ConnectionError):
        bisect([1, 2, 3, 4], away)
    assert calls == [[1, 2, 3, 4]]
