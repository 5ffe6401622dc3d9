"""How the commands speak: a console for their output and the one way they stop on a known error."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from workbench.errors import WorkbenchError


def console() -> Console:
    """The console a command prints to."""
    # Piped output (CI logs, files) gets a width that fits the summary tables instead of 80 columns.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def fail(error: WorkbenchError) -> NoReturn:
    """Print a known error's message and exit with its status."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(error))}")
    raise typer.Exit(error.exit_code)
