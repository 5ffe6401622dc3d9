"""A real team server for these tests: PostgreSQL from the distribution's packages and MLflow's server with
the workbench's auth app, started once per session on free ports, with three accounts: dana (data scientist),
rita (reviewer) and alex (approver).

CI (.ci/run) starts PostgreSQL itself, so its start-up shows in the log, and passes its port in
WORKBENCH_TEST_POSTGRES_PORT with the password in WORKBENCH_DB_PASSWORD. Elsewhere the fixture starts a
private cluster with deploy/postgres.sh. Each session gets databases of its own, dropped at the end."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench.tracking import server as team
from workbench.tracking.store import PROJECT_ROOT
from workbench.tracking.users import add_user, auth_client

PORT_ENV = "WORKBENCH_TEST_POSTGRES_PORT"
POSTGRES_SCRIPT = PROJECT_ROOT / "deploy" / "postgres.sh"
ACCOUNTS = {"dana": "data-scientist", "rita": "reviewer", "alex": "approver"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the team-server tests (.ci/run installs and starts PostgreSQL)")
    pytest.skip(f"{reason}: the team-server tests need PostgreSQL (apt-get install -y postgresql)")


@dataclass(frozen=True)
class Postgres:
    port: int
    password: str


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    if os.environ.get(PORT_ENV):
        yield Postgres(int(os.environ[PORT_ENV]), os.environ["WORKBENCH_DB_PASSWORD"])
        return
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        _unavailable("PostgreSQL is not installed")
    # Not under pytest's own folders: they are private to this user, and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="workbench-test-pg-"))
    root.chmod(0o755)
    folder = root / "data"
    found = Postgres(_free_port(), secrets.token_urlsafe(16))
    environment = os.environ | {"WORKBENCH_DB_PASSWORD": found.password}
    subprocess.run([str(POSTGRES_SCRIPT), "start", str(folder), str(found.port)], env=environment, check=True)
    yield found
    subprocess.run([str(POSTGRES_SCRIPT), "stop", str(folder)], env=environment, check=False)
    shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _databases(pg: Postgres) -> Iterator[tuple[str, str]]:
    import psycopg2

    names = (f"mlflow_{secrets.token_hex(4)}", f"mlflow_auth_{secrets.token_hex(4)}")
    connection = psycopg2.connect(
        host="127.0.0.1", port=pg.port, user="mlflow", password=pg.password, dbname="postgres"
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f"CREATE DATABASE {name}")
        yield names
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        connection.close()


@contextmanager
def signed_in(username: str, password: str) -> Iterator[None]:
    """MLflow's clients read the credentials from the environment on every request."""
    keys = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
    before = {key: os.environ.get(key) for key in keys}
    os.environ.update(dict(zip(keys, (username, password), strict=True)))
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class TeamServer:
    url: str
    passwords: dict[str, str]
    config: team.ServerConfig
    log: Path

    def as_user(self, monkeypatch: pytest.MonkeyPatch, username: str) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", self.url)
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", username)
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", self.passwords[username])


def _show(request: pytest.FixtureRequest, log: Path, headline: str) -> None:
    """The server's start-up goes to the terminal past pytest's capture, so CI logs show it."""
    lines = [f">> {headline}"] + [
        f"   {line}"
        for line in log.read_text(errors="replace").splitlines()
        if any(mark in line for mark in ("Started server process", "Application startup complete", "Uvicorn running"))
    ]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + "\n".join(lines), flush=True)


@pytest.fixture(scope="session")
def team_server(
    postgres: Postgres, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[TeamServer]:
    folder = tmp_path_factory.mktemp("team-server")
    passwords = {name: secrets.token_urlsafe(12) for name in ("admin", *ACCOUNTS)}
    with _databases(postgres) as (tracking_db, auth_db):
        (folder / "server.toml").write_text(
            "[server]\n"
            f'host = "127.0.0.1"\nport = {_free_port()}\nworkers = 2\n'
            'database_password = "${WORKBENCH_DB_PASSWORD}"\n'
            f'database_url = "postgresql+psycopg2://mlflow@127.0.0.1:{postgres.port}/{tracking_db}"\n'
            f'auth_database_url = "postgresql+psycopg2://mlflow@127.0.0.1:{postgres.port}/{auth_db}"\n'
            'artifacts_destination = "artifacts"\n'
            'admin_username = "admin"\nadmin_password = "${WORKBENCH_ADMIN_PASSWORD}"\n'
            'secret_key = "${WORKBENCH_SERVER_SECRET}"\n'
        )
        environ = {
            "WORKBENCH_DB_PASSWORD": postgres.password,
            "WORKBENCH_ADMIN_PASSWORD": passwords["admin"],
            "WORKBENCH_SERVER_SECRET": secrets.token_hex(16),
        }
        config = team.load_config(folder / "server.toml", environ=environ)
        log = folder / "server.log"
        process = team.start(config, state=folder / "state", log=log)
        try:
            seconds = team.wait_until_healthy(config.url, process=process, timeout=400)
            _show(request, log, f"MLflow team server ({team.APP_NAME}) ready on {config.url} after {seconds:.1f} s")
            with signed_in("admin", passwords["admin"]):
                admin = auth_client(config.url)
                for username, role in ACCOUNTS.items():
                    add_user(admin, username=username, password=passwords[username], role=role)
            yield TeamServer(config.url, passwords, config, log)
        finally:
            team.stop(process)
