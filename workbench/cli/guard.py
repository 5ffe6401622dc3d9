"""The guard round every command that does real work: it turns errors and signals into a message and an
exit status, so no user ever sees a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from workbench.cli.console import fail
from workbench.errors import SERVER_REFUSED_EXIT, WorkbenchError


@contextmanager
def guard(action: str = "train") -> Iterator[None]:
    """Known errors keep their clear message and exit status; a signal ends the command with 130 or
    143 after every open run is closed; a team server's refusal (401 or 403) names the role or the
    sign-in `action` needs and exits 4; anything unexpected prints one line and the path of a log
    with the traceback, and exits 1."""
    from workbench.engine import shutdown
    from workbench.interrupt import Interrupted, signals_raise

    try:
        with signals_raise():
            yield
    except WorkbenchError as error:
        shutdown()  # workers warmed up before the error was found
        fail(error)
    except Interrupted as stop:
        shutdown(at_once=True)
        Console(stderr=True, highlight=False).print(
            f"[bold red]stopped:[/] {stop}; open runs were ended as KILLED and nothing was promoted"
        )
        raise typer.Exit(stop.exit_code) from None
    except typer.Exit:
        raise
    except Exception as error:
        shutdown()
        from workbench.tracking.server import permission_message

        refusal = permission_message(error, action=action)
        if refusal is not None:  # the team server refused this user: a role or a sign-in, not a bug
            Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]refused:[/] {escape(refusal)}")
            raise typer.Exit(SERVER_REFUSED_EXIT) from None
        log = _log_unexpected()
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[bold red]unexpected error:[/] {escape(type(error).__name__)}: {escape(str(error)[:300])}\n"
            f"The full traceback is in {log}"
        )
        raise typer.Exit(1) from None
    finally:
        shutdown()  # however the command ended, no idle worker outlives it


def _log_unexpected() -> Path:
    """Write the traceback of an unexpected error to a log file and return its path."""
    import traceback
    from datetime import UTC, datetime

    from workbench.tracking.store import PROJECT_ROOT

    folder = PROJECT_ROOT / "outputs" / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"error-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.log"
    path.write_text(traceback.format_exc())
    return path
