"""Ctrl-C and SIGTERM as an exception, so every open run, lock and temporary folder is closed on the
way out and the command exits 130 or 143 (128 + the signal's number)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

FAILPOINT_VARIABLE = "WORKBENCH_FAILPOINT"


class Interrupted(KeyboardInterrupt):
    """The command was stopped by a signal; `exit_code` is 128 + its number."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 128 + signum


@contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block SIGINT and SIGTERM raise `Interrupted` in the main thread."""

    def handler(signum: int, _frame: FrameType | None) -> NoReturn:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def deferred() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM for steps that must complete or not start (registering a version and
    moving the champion alias). Yields the list of signals that arrived; the caller raises them
    with `raise_pending` once it is safe."""
    pending: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield pending
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def raise_pending(pending: list[int]) -> None:
    if pending:
        raise Interrupted(pending[0])


def failpoint(stage: str) -> None:
    """Deliver SIGTERM to this process when WORKBENCH_FAILPOINT names `stage`: lets the tests stop a
    command at a chosen step through the real signal path. Does nothing otherwise."""
    if os.environ.get(FAILPOINT_VARIABLE) == stage:
        os.kill(os.getpid(), signal.SIGTERM)


__all__ = ["Interrupted", "deferred", "failpoint", "raise_pending", "signals_raise"]
