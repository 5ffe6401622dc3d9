"""The team server's configuration and the choice of store, without starting anything."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from workbench.tracking import server as team
from workbench.tracking.server import DEFAULT_CONFIG, ServerConfigError, load_config
from workbench.tracking.store import PROJECT_ROOT, project_setting, tracking_uri

SECRETS = {"WORKBENCH_DB_PASSWORD": "db-pw", "WORKBENCH_ADMIN_PASSWORD": "admin-pw", "WORKBENCH_SERVER_SECRET": "key"}


def test_the_committed_config_takes_every_secret_from_the_environment():
    config = load_config(DEFAULT_CONFIG, environ=SECRETS)

    assert (config.admin_password, config.database_password, config.secret_key) == ("admin-pw", "db-pw", "key")
    assert config.database_url == "postgresql+psycopg2://mlflow@127.0.0.1:5432/mlflow"
    raw = tomllib.loads(DEFAULT_CONFIG.read_text())["server"]
    assert {raw[k] for k in ("admin_password", "database_password", "secret_key")} == {
        "${WORKBENCH_ADMIN_PASSWORD}",
        "${WORKBENCH_DB_PASSWORD}",
        "${WORKBENCH_SERVER_SECRET}",
    }
    assert "@127.0.0.1" in raw["database_url"] and ":${" not in raw["database_url"]


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_a_missing_secret_is_named(missing):
    environ = {k: v for k, v in SECRETS.items() if k != missing}

    with pytest.raises(ServerConfigError, match=f"needs the environment variable {missing}; export it first"):
        load_config(DEFAULT_CONFIG, environ=environ)


def test_unknown_and_missing_settings_are_named(tmp_path: Path):
    path = tmp_path / "server.toml"
    path.write_text('[server]\nhost = "127.0.0.1"\nprot = 5000\n')

    with pytest.raises(ServerConfigError) as error:
        load_config(path, environ={})

    assert str(error.value) == (
        f"{path}: unknown setting(s) prot; missing setting(s) admin_password, admin_username, "
        "artifacts_destination, auth_database_url, database_url, port, secret_key, workers"
    )


def test_secrets_never_reach_the_command_line(tmp_path: Path):
    config = load_config(DEFAULT_CONFIG, environ=SECRETS)
    command = team.server_command(config)
    environment = team.server_environment(config, team.write_auth_ini(config, tmp_path))

    assert not any(secret in " ".join(command) for secret in SECRETS.values())
    assert command[command.index("--app-name") + 1] == "workbench-auth"
    assert "--serve-artifacts" in command
    assert (environment["PGPASSWORD"], environment["MLFLOW_AUTH_ADMIN_PASSWORD"]) == ("db-pw", "admin-pw")
    assert (tmp_path / "basic_auth.ini").stat().st_mode & 0o077 == 0
    assert "db-pw" not in (tmp_path / "basic_auth.ini").read_text()


def test_the_local_store_stays_the_default(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert project_setting("tracking-uri") is None
    assert tracking_uri() == f"sqlite:///{PROJECT_ROOT / 'mlruns.db'}"


def test_a_project_setting_points_at_the_server(tmp_path: Path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.workbench]\ntracking-uri = "http://127.0.0.1:5000"\n')

    assert project_setting("tracking-uri", pyproject) == "http://127.0.0.1:5000"


def test_the_server_app_imports_none_of_the_training_stack():
    """The team server's bootstrap and each of its workers import the app: it needs Flask and MLflow's
    server, not the models, scikit-learn or LightGBM that recording a training run brings."""
    code = (
        "import sys, workbench.tracking.server_app, workbench.tracking.server, workbench.tracking.users; "
        "print(sorted(m for m in ('models', 'sklearn', 'lightgbm', 'workbench.config') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
