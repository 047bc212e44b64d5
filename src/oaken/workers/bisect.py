"""Finding the records a database refuses in a batch, by halving it.

A batch is written in one transaction; when the database refuses it for good (see
:mod:`oaken.workers.refusals`), the batch is split in two and each half is written in its
own transaction, recursively, down to single messages. Every part that commits is kept;
each single message that is still refused is an offender, with the reason. With one
poison record in a batch of *n*, about 2·log₂ *n* transactions are run (the parts that
hold it fail, the others commit), and every record but the poison is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Refused(Exception):
    """The database refused a part of a batch for good (not "away", not a conflict)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Bisected(Generic[T, R]):
    """The results of the parts that committed, and each refused item with its reason."""

    results: list[R] = field(default_factory=list)
    offenders: list[tuple[T, str]] = field(default_factory=list)
    attempts: int = 0


def bisect(items: Sequence[T], attempt: Callable[[Sequence[T]], R]) -> Bisected[T, R]:
    """Run ``attempt`` (one transaction) on ``items``; while it raises :class:`Refused`,
    run it on each half instead, down to single items. Any other exception propagates
    (the caller decides about a database that is away)."""
    found: Bisected[T, R] = Bisected()

    def run(part: Sequence[T]) -> None:
        if not part:
            return
        found.attempts += 1
        try:
            found.results.append(attempt(part))
        except Refused as problem:
            if len(part) == 1:
                found.offenders.append((part[0], problem.reason))
                return
            middle = len(part) // 2
            run(part[:middle])
            run(part[middle:])

    run(items)
    return found
