"""Ctrl-C and SIGTERM as an exception, so every open run, lock and temporary folder is closed on the
way out and the command exits 130 or 143 (128 + the signal's number)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class Interrupted(KeyboardInterrupt):
    """The command was stopped by a signal; `exit_code` is 128 + its number."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 128 + signum


@contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block SIGINT and SIGTERM raise `Interrupted` in the main thread."""

    def handler(signum, _frame):
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends: for steps that must complete or not start
    (moving the champion alias). A signal that arrived is raised as `Interrupted` afterwards."""
    pending: list[int] = []

    def hold(signum, _frame):
        pending.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
    if pending:
        raise Interrupted(pending[0])


__all__ = ["Interrupted", "deferred", "signals_raise"]
