"""MLflow's usage reporting is off for every command and the team server, unless a user says otherwise."""

from __future__ import annotations

import os

from typer.testing import CliRunner

from workbench.cli import app


def test_every_command_switches_mlflow_usage_reporting_off(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    CliRunner().invoke(app, ["validate", str(tmp_path / "missing.yaml")])
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_a_users_own_setting_is_kept(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    CliRunner().invoke(app, ["validate", str(tmp_path / "missing.yaml")])
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "false"


def test_the_team_server_runs_with_usage_reporting_off(monkeypatch, tmp_path) -> None:
    from workbench.tracking.server import ServerConfig, server_environment

    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    fields = {name: "x" for name in ServerConfig.__dataclass_fields__}
    environment = server_environment(ServerConfig(**fields), tmp_path / "auth.ini")  # type: ignore[arg-type]
    assert environment["MLFLOW_DISABLE_TELEMETRY"] == "true"
