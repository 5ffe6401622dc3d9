"""Ending a command's process once its work is done.

Python's own exit tears down every loaded module one by one, which with the numeric libraries loaded
(numba, LightGBM, pandas, MLflow) takes a second or more after the last line is printed. A command
that has finished runs its exit handlers (logging, the worker pool, temporary folders), flushes its
output and ends the process at once. Anything still running in a thread other than a daemon gets the
ordinary exit instead, so no work is cut short.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from contextlib import suppress


def end(code: int) -> None:
    """End this process with `code` (never returns)."""
    if any(t is not threading.main_thread() and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can be said
            stream.flush()
    os._exit(code)


def exit_code(stop: SystemExit) -> int:
    """The status a SystemExit asks for, as the interpreter would give it (printing a message if it has one)."""
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1
