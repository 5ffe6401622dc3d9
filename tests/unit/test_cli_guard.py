"""The command line's guard: a team server's refusal is a role message and exit 4, not a traceback."""

from __future__ import annotations

import pytest
import typer
from mlflow.exceptions import MlflowException

from workbench.cli.guard import guard


def test_a_403_from_the_server_names_the_role_and_exits_4(monkeypatch, capsys) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "rita")
    with pytest.raises(typer.Exit) as stopped, guard("promote"):
        raise MlflowException(
            "API request to endpoint /api/2.0/mlflow/registered-models/set-tag failed with error code 403 != 200. "
            "Response body: 'Permission denied'"
        )
    assert stopped.value.exit_code == 4
    err = capsys.readouterr().err
    assert "refused to let 'rita' promote: that needs the approver role" in err
    assert "unexpected error" not in err


def test_any_other_error_is_unexpected_with_a_log_and_exit_1(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr("workbench.tracking.store.PROJECT_ROOT", tmp_path)  # the log goes here, not into the project
    with pytest.raises(typer.Exit) as stopped, guard("promote"):
        raise MlflowException("API request to endpoint /x failed with error code 500 != 200")
    assert stopped.value.exit_code == 1
    err = capsys.readouterr().err
    assert "unexpected error: MlflowException" in err
    (log,) = (tmp_path / "outputs" / "logs").iterdir()
    assert f"The full traceback is in {log}" in err
    assert "Traceback" in log.read_text() and "error code 500 != 200" in log.read_text()
