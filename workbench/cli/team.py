"""Commands for the team server: run it, move a local store into it, its accounts and roles, and who
you are signed in as."""

from __future__ import annotations

from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.markup import escape

from workbench.cli.console import console, fail
from workbench.errors import WorkbenchError

if TYPE_CHECKING:  # types only: at run time only workbench.tracking imports mlflow
    from mlflow.server.auth.client import AuthServiceClient


def _auth_client() -> AuthServiceClient:
    from workbench.tracking.server import is_server
    from workbench.tracking.store import tracking_uri
    from workbench.tracking.users import auth_client

    if not is_server(tracking_uri()):
        fail(WorkbenchError("users live on the team server: set MLFLOW_TRACKING_URI to its http:// address first"))
    return auth_client(tracking_uri())


def users_setup() -> None:
    """Create the data-scientist, reviewer and approver roles with their permissions (safe to repeat)."""
    from workbench.tracking.users import ROLES, ensure_roles

    ids = ensure_roles(_auth_client())
    for name, role in ROLES.items():
        grants = ", ".join(f"{permission} on {kind}" for kind, permission in role.grants)
        console().print(f"role {name} (id {ids[name]}): {role.description} [{grants}]")


def users_add(
    username: str = typer.Argument(..., help="Account name, e.g. dana"),
    role: str = typer.Option(..., "--role", help="data-scientist, reviewer or approver"),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="WORKBENCH_NEW_USER_PASSWORD"
    ),
) -> None:
    """Create an account (or change its role) on the team server."""
    from workbench.tracking.users import add_user, roles_of

    client = _auth_client()
    try:
        add_user(client, username=username, password=password, role=role)
    except WorkbenchError as error:
        fail(error)
    console().print(f"user {escape(username)}: roles {', '.join(roles_of(client, username))}")


def whoami() -> None:
    """The account the tracking server authenticates for you (from MLFLOW_TRACKING_USERNAME/PASSWORD)."""
    from workbench.tracking.server import current_user
    from workbench.tracking.store import tracking_uri

    try:
        user = current_user()
    except WorkbenchError as error:
        fail(error)
    console().print(f"{escape(user)} on {tracking_uri()}" if user else f"local store {tracking_uri()}: no accounts")


def server(
    config: Path = typer.Option(Path("deploy/server.toml"), help="The server's configuration file"),
    state: Path = typer.Option(Path(".server"), help="Folder for the generated auth settings and the log"),
) -> None:
    """Run the team's MLflow server (basic-auth, PostgreSQL, served artifacts) until Ctrl+C."""
    import signal

    from workbench.tracking import server as team

    try:
        settings = team.load_config(config)
        log = state / "server.log"
        process = team.start(settings, state=state, log=log)
        console().print(f"Starting the MLflow server on {settings.url} (log: {log})")
        seconds = team.wait_until_healthy(settings.url, process=process, timeout=300)
    except WorkbenchError as error:
        fail(error)
    console().print(f"Ready after {seconds:.0f} s. Clients: export MLFLOW_TRACKING_URI={settings.url}. Ctrl+C stops.")
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop ends the server's workers too
    try:
        raise typer.Exit(process.wait())
    except KeyboardInterrupt:
        team.stop(process)
        console().print("Stopped the MLflow server.")


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def move_in(
    source: str = typer.Option(None, "--from", help="Local store to copy (default: the project's mlruns.db)"),
) -> None:
    """Copy the local store's runs and registered models to the server in MLFLOW_TRACKING_URI (repeatable)."""
    from workbench.tracking.move_in import move_in_store
    from workbench.tracking.server import is_server
    from workbench.tracking.store import DEFAULT_DB, PROJECT_ROOT, tracking_uri

    target = tracking_uri()
    if not is_server(target):
        fail(WorkbenchError("set MLFLOW_TRACKING_URI to the team server's http:// address to move in"))
    origin = source or f"sqlite:///{PROJECT_ROOT / DEFAULT_DB}"
    report = move_in_store(origin, target, say=console().print)
    console().print(f"Moved {origin} to {target}: {report.summary()}")
