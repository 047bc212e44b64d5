"""Dagster's in-process run leaves SIGTERM mapped to SIGINT's handler; where SIGINT is
ignored (a process a shell started in the background) SIGTERM stayed ignored, and so
did it in every child started later. ``oaken analytics`` gives it back."""

from __future__ import annotations

import signal

from dagster._utils.interrupts import capture_interrupts

from oaken.analytics.runner import _sigterm_kept


def test_sigterm_is_as_it_was_after_a_dagster_run() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with capture_interrupts():  # what execute_in_process wraps a run in
            pass
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN  # Dagster by itself
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with _sigterm_kept(), capture_interrupts():
            pass
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
