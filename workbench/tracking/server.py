"""The shared team server: MLflow's tracking server with its basic-auth app, a PostgreSQL backend store
and artifacts served by the server. One TOML file (deploy/server.toml) holds every setting; secrets in
it are ${NAME} references filled from the environment when the server starts, never written down."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.privacy import PRIVATE
from workbench.tracking.store import PROJECT_ROOT, tracking_uri

DEFAULT_CONFIG = PROJECT_ROOT / "deploy" / "server.toml"
APP_NAME = "workbench-auth"
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ServerConfigError(WorkbenchError):
    """The server's configuration file is missing a setting or a secret."""


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    workers: int
    database_url: str
    auth_database_url: str
    artifacts_destination: Path
    admin_username: str
    admin_password: str
    secret_key: str
    database_password: str = ""
    default_permission: str = "READ"
    auth_cache_seconds: int = 60

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def load_config(path: Path = DEFAULT_CONFIG, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """Read the [server] table, filling ${NAME} from the environment; relative paths are from the file's folder."""
    environ = os.environ if environ is None else environ
    try:
        table = tomllib.loads(path.read_text())["server"]
    except FileNotFoundError:
        raise ServerConfigError(f"no server configuration at {path}: copy deploy/server.toml and edit it") from None
    except (tomllib.TOMLDecodeError, KeyError) as error:
        raise ServerConfigError(f"{path} is not a server configuration ({error}): it needs a [server] table") from None
    known = ServerConfig.__dataclass_fields__
    unknown = sorted(set(table) - set(known))
    missing = sorted(k for k, f in known.items() if k not in table and f.default is f.default_factory)
    if unknown or missing:
        raise ServerConfigError(
            f"{path}: "
            + "; ".join(
                ([f"unknown setting(s) {', '.join(unknown)}"] if unknown else [])
                + ([f"missing setting(s) {', '.join(missing)}"] if missing else [])
            )
        )
    values: dict[str, Any] = {
        key: _fill(str(value), key, path, environ) if isinstance(value, str) else value for key, value in table.items()
    }
    destination = Path(values["artifacts_destination"])
    values["artifacts_destination"] = destination if destination.is_absolute() else path.parent / destination
    return ServerConfig(**values)


def _fill(value: str, key: str, path: Path, environ: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not environ.get(name):
            raise ServerConfigError(f"{path}: setting '{key}' needs the environment variable {name}; export it first")
        return environ[name]

    return _REFERENCE.sub(replace, value)


def write_auth_ini(config: ServerConfig, folder: Path) -> Path:
    """The basic-auth app reads an ini file. It holds no secret (the database password travels as PGPASSWORD),
    but only its owner may read it all the same."""
    folder.mkdir(parents=True, exist_ok=True)
    ini = folder / "basic_auth.ini"
    ini.touch(mode=0o600)
    ini.chmod(0o600)
    ini.write_text(
        "[mlflow]\n"
        f"default_permission = {config.default_permission}\n"
        f"database_uri = {config.auth_database_url}\n"
        f"admin_username = {config.admin_username}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # A password check is a deliberately slow hash; caching a good one per worker keeps requests quick.
        f"auth_cache_ttl_seconds = {config.auth_cache_seconds}\n"
    )
    return ini


def server_command(config: ServerConfig) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "server",
        "--app-name", APP_NAME,
        "--backend-store-uri", config.database_url,
        "--serve-artifacts",
        "--artifacts-destination", str(config.artifacts_destination),
        "--host", config.host,
        "--port", str(config.port),
        "--workers", str(config.workers),
    ]  # fmt: skip


def server_environment(config: ServerConfig, ini: Path) -> dict[str, str]:
    """Secrets reach the server as environment variables, never as arguments that a process list would show.
    libpq reads the database password from PGPASSWORD, so the database URLs carry none."""
    return (
        PRIVATE
        | os.environ
        | {
            "PGPASSWORD": config.database_password,
            "MLFLOW_AUTH_CONFIG_PATH": str(ini),
            "MLFLOW_AUTH_ADMIN_USERNAME": config.admin_username,
            "MLFLOW_AUTH_ADMIN_PASSWORD": config.admin_password,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": config.secret_key,
            # The background job runners serve GenAI scorers, which the workbench never uses: six idle processes.
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
    )


def start(config: ServerConfig, *, state: Path, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start the server in the background; `state` holds the generated auth ini. Call `wait_until_healthy` next."""
    config.artifacts_destination.mkdir(parents=True, exist_ok=True)
    ini = write_auth_ini(config, state)
    environment = server_environment(config, ini)
    out = log.open("ab") if log else subprocess.DEVNULL
    # MLflow does this itself only for its own app name; done once here, workers never race to create the admin.
    bootstrap = subprocess.run(
        [sys.executable, "-m", "workbench.tracking.server_app"], env=environment, stdout=out, stderr=subprocess.STDOUT
    )
    if bootstrap.returncode:
        raise WorkbenchError(
            f"the server could not create its admin user or read its secret key; see {log or 'its log'}"
        )
    return subprocess.Popen(
        server_command(config),
        env=environment,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_healthy(url: str, *, process: subprocess.Popen[bytes] | None = None, timeout: float = 90.0) -> float:
    """Poll /health until the server answers OK; returns the seconds it took. Fails fast if the process exits."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process is not None and process.poll() is not None:
            raise WorkbenchError(f"the MLflow server exited with status {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - began
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise WorkbenchError(f"the MLflow server at {url} did not answer /health within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], *, grace: float = 15.0) -> None:
    """Stop the server and its workers (they share its process group): SIGTERM, then SIGKILL after `grace` s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def is_server(uri: str | None = None) -> bool:
    return (uri or tracking_uri()).startswith(("http://", "https://"))


def current_user(uri: str | None = None) -> str | None:
    """The user the server authenticated for this process, or None for a local store (no authentication there).

    Asks the server who the credentials in MLFLOW_TRACKING_USERNAME/PASSWORD belong to, so the name is the
    one the server checked, not one typed on a command line."""
    uri = uri or tracking_uri()
    if not is_server(uri):
        return None
    from mlflow.exceptions import MlflowException
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request, verify_rest_response

    endpoint = "/api/2.0/mlflow/users/current"
    try:
        response = http_request(get_default_host_creds(uri), endpoint, "GET", max_retries=0)
        return str(verify_rest_response(response, endpoint).json()["user"]["username"])
    except MlflowException as error:
        raise WorkbenchError(
            f"the server at {uri} did not accept your credentials ({error.message.splitlines()[0]}): "
            "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to your own account"
        ) from None


@dataclass(frozen=True)
class Swap:
    swapped: bool
    current: str | None  # the champion after the call: `version` if swapped, else the one that won


def compare_and_set_champion(name: str, *, expected: str | None, version: str, uri: str | None = None) -> Swap:
    """Move `champion` to `version` only if it still points at `expected` (None: no champion yet).

    The server does the read and the move under one lock, so of several promotions judged against the same
    champion exactly one swaps; the others get `Swap(False, current)` and can judge again against `current`.
    A 403 (not an approver) is raised as MLflow's exception, for `permission_message`."""
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request, verify_rest_response

    from workbench.tracking.server_app import COMPARE_AND_SET_ROUTE

    uri = uri or tracking_uri()
    body = {"name": name, "expected": expected, "version": str(version)}
    response = http_request(get_default_host_creds(uri), COMPARE_AND_SET_ROUTE, "POST", json=body, max_retries=0)
    if response.status_code == 409:
        return Swap(False, response.json()["current"])
    answer = verify_rest_response(response, COMPARE_AND_SET_ROUTE).json()
    return Swap(answer["swapped"], answer["current"])


# What each workbench action needs from the server, for the message a 403 becomes.
NEEDED_ROLE = {
    "read": "reviewer",
    "train": "data-scientist",
    "forecast": "data-scientist",
    "score": "data-scientist",
    "register": "data-scientist",
    "approve": "approver",
    "promote": "approver",
}


def is_permission_denied(error: BaseException) -> bool:
    from mlflow.exceptions import MlflowException

    if getattr(getattr(error, "response", None), "status_code", None) == 403:  # an artifact request
        return True
    return isinstance(error, MlflowException) and (
        error.error_code == "PERMISSION_DENIED"
        or getattr(error, "get_http_status_code", lambda: 0)() == 403
        or "403 != 200" in str(error)
    )


def is_unauthenticated(error: BaseException) -> bool:
    from mlflow.exceptions import MlflowException

    return isinstance(error, MlflowException) and (
        error.error_code == "UNAUTHENTICATED"
        or getattr(error, "get_http_status_code", lambda: 0)() == 401
        or "401 != 200" in str(error)
    )


def permission_message(error: BaseException, *, action: str, uri: str | None = None) -> str | None:
    """A 403 from the server as a sentence that names the role the action needs; None for any other error."""
    if is_unauthenticated(error):
        return (
            f"the server at {uri or tracking_uri()} did not accept the credentials for "
            f"'{os.environ.get('MLFLOW_TRACKING_USERNAME') or '(no user set)'}': set MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD to your own account (`workbench whoami` checks them)"
        )
    if not is_permission_denied(error):
        return None
    role = NEEDED_ROLE.get(action, "approver")
    user = os.environ.get("MLFLOW_TRACKING_USERNAME") or "this user"
    return (
        f"the server at {uri or tracking_uri()} refused to let '{user}' {action}: that needs the {role} role. "
        f"Ask an admin to run `workbench users add {user} --role {role}`, or sign in as someone who has it."
    )
