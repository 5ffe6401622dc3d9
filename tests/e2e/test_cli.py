"""The real command line, run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
WORKBENCH = Path(sys.executable).parent / "workbench"


def test_validate_summarises_the_default_experiments_panel(cli) -> None:
    result = cli("validate", ROOT / "experiments" / "owed_duty_next_quarter.yaml")
    assert result.exit_code == 0, result.output
    assert "296 areas, 2018Q2 to 2026Q2" in result.output
    assert "owed_duty" in result.output and "possession_claims_rate" in result.output
    assert "The panel meets the contract." in result.output


def test_bad_input_exits_non_zero_from_the_installed_command(tmp_path: Path) -> None:
    experiment = tmp_path / "bad.yaml"
    experiment.write_text("name: bad\ntarget: y\ndata: {file: {path: missing.csv, columns: {targets: [y]}}}\n")
    done = subprocess.run([str(WORKBENCH), "validate", str(experiment)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert f"panel file '{tmp_path / 'missing.csv'}' does not exist" in done.stderr  # read from the project root
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_synthesize_refuses_an_unknown_format_and_writes_nothing(cli, workdir) -> None:
    result = cli("synthesize", "--out", "panel.xlsx")
    assert result.exit_code == 2
    assert "use a .parquet or .csv file name" in result.output
    assert list(workdir.iterdir()) == []
