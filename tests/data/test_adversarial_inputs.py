"""An adversarial corpus of inputs: data files and experiment YAML that a careless or hostile user
might give. Each case asserts the message (word for word from `messages`, or a stable phrase),
the exit status of the real command, and that nothing changed: no file in the working folder,
no run, experiment or registered model in the tracking store."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.command_server import CommandServer
from tests.conftest import FILE_COLUMNS, quarterly_rows
from workbench.config import NAME_RULE
from workbench.data import messages as msg
from workbench.data.contract import MAX_COUNT


def message(entry: tuple[str, str], **values: object) -> str:
    return entry[0].format(**values)


def fix(entry: tuple[str, str], **values: object) -> str:
    return entry[1].format(**values)


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if not p.is_dir() or p.is_symlink()
    }


def _store_contents(uri: str) -> tuple[int, int, int]:
    """(experiments, runs, registered models) in the test's store; (0, 0, 0) if it was never made."""
    database = Path(uri.removeprefix("sqlite:///"))
    if not database.exists():
        return (0, 0, 0)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiments = [e for e in client.search_experiments() if e.name != "Default"]
    runs = client.search_runs([e.experiment_id for e in experiments]) if experiments else []
    return (len(experiments), len(runs), len(client.search_registered_models()))


@pytest.fixture
def refused(cli, workdir: Path) -> Callable[..., str]:
    """Run a command that must be refused; check the exit status, the message and that nothing changed."""

    def check(command: str, experiment: Path, *expected: str, exit_code: int = 2) -> str:
        uri = os.environ["MLFLOW_TRACKING_URI"]
        before, store_before = _files(workdir), _store_contents(uri)
        result = cli(command, experiment)
        output = result.output
        assert result.exit_code == exit_code, output
        assert "error:" in output and "Traceback" not in output, output
        for text in expected:
            assert text in output, f"expected {text!r} in:\n{output}"
        assert _files(workdir) == before, "the refused command changed files"
        assert _store_contents(uri) == store_before == (0, 0, 0), "the refused command changed the store"
        return output

    return check


def run_alone(
    commands: CommandServer, command: str, experiment: Path, cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess:
    """The command in a process of its own, with a time limit so a hang is a failure, not a stuck suite."""
    return commands.run([command, str(experiment)], cwd=cwd, env=dict(os.environ), timeout=timeout)[0]


def with_values(column: str, rows: dict[int, object], frame: pd.DataFrame | None = None) -> pd.DataFrame:
    frame = (quarterly_rows() if frame is None else frame).astype({column: object})
    for i, value in rows.items():
        frame.loc[i, column] = value
    return frame


# Counts that are not finite numbers, or absurdly large -------------------------------------------


@pytest.mark.parametrize("command", ["validate", "train"])
@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_infinite_counts_are_refused_with_their_rows(refused, file_experiment, workdir, command, value) -> None:
    experiment = file_experiment(with_values("duties", {3: value}), **{})
    output = refused(
        command,
        experiment,
        message(msg.NON_FINITE, column="owed_duty", n=1, example=value),
        fix(msg.NON_FINITE),
        "rows 5]",  # the header is line 1, so frame row 3 is line 5
    )
    assert "E06000001" in output


def test_a_count_of_1e300_is_refused_with_the_limit(refused, file_experiment) -> None:
    experiment = file_experiment(with_values("duties", {2: "1e+300", 9: "5e12"}))
    refused(
        "train",
        experiment,
        message(msg.ABOVE_MAXIMUM, column="owed_duty", n=2, maximum=MAX_COUNT, example="1e+300"),
        fix(msg.ABOVE_MAXIMUM),
        "rows 4, 11]",
    )


def test_the_maximum_count_is_configurable(refused, cli, file_experiment) -> None:
    experiment = file_experiment(with_values("duties", {0: "150"}), max_count=100)
    refused("validate", experiment, message(msg.ABOVE_MAXIMUM, column="owed_duty", n=1, maximum=100, example="150"))
    allowed = file_experiment(with_values("duties", {0: "150"}), max_count=1000)
    assert cli("validate", allowed).exit_code == 0


def test_infinite_covariate_is_refused(refused, file_experiment) -> None:
    experiment = file_experiment(with_values("claims", {4: "inf"}))
    refused("train", experiment, message(msg.NON_FINITE, column="possession_claims_rate", n=1, example="inf"))


def test_infinite_value_in_a_parquet_file_is_refused(refused, file_experiment) -> None:
    frame = quarterly_rows().astype({"duties": float})
    frame.loc[5, "duties"] = np.inf
    experiment = file_experiment(frame, file_name="panel.parquet")
    refused("train", experiment, message(msg.NON_FINITE, column="owed_duty", n=1, example="inf"), "rows 6]")


# Missing covariates: one explicit policy -----------------------------------------------------------


@pytest.mark.parametrize("missing", ["", "NaN", "nan"])
def test_missing_covariate_inside_the_series_is_refused_by_default(refused, file_experiment, missing) -> None:
    experiment = file_experiment(with_values("claims", {2: missing, 10: missing}))
    refused(
        "train",
        experiment,
        message(msg.MISSING_COVARIATES, column="possession_claims_rate", n=2),
        fix(msg.MISSING_COVARIATES),
        "rows 4, 12]",
    )


def test_missing_covariates_in_the_unpublished_latest_period_are_accepted(cli, file_experiment) -> None:
    frame = quarterly_rows()
    latest = frame["quarter"] == frame["quarter"].max()  # publication lag 1: the last quarter is not out yet
    experiment = file_experiment(frame.assign(claims=frame["claims"].where(~latest)))
    result = cli("validate", experiment)
    assert result.exit_code == 0, result.output


def test_fill_forward_carries_the_last_value_and_still_refuses_a_missing_start(refused, file_experiment) -> None:
    from workbench.config import load_experiment
    from workbench.data.load import load_panel

    filled = file_experiment(with_values("claims", {3: ""}), missing_covariates="fill_forward")
    panel = load_panel(load_experiment(filled).data)
    first_area = panel.frame[panel.frame["area_code"] == "E06000001"]
    assert first_area["possession_claims_rate"].iloc[3] == first_area["possession_claims_rate"].iloc[2]
    leading = file_experiment(with_values("claims", {0: ""}), missing_covariates="fill_forward")
    refused("validate", leading, message(msg.MISSING_COVARIATES, column="possession_claims_rate", n=1), "rows 2]")


def test_keep_leaves_covariates_missing_and_says_so(cli, file_experiment) -> None:
    experiment = file_experiment(with_values("claims", {3: ""}), missing_covariates="keep")
    result = cli("validate", experiment)
    assert result.exit_code == 0, result.output


# Targets no model can learn from ----------------------------------------------------------------


def test_an_all_zero_target_is_refused(refused, file_experiment) -> None:
    experiment = file_experiment(quarterly_rows().assign(duties=0))
    refused("train", experiment, message(msg.TARGET_ALL_ZERO, column="owed_duty"), fix(msg.TARGET_ALL_ZERO))


def test_an_all_zero_target_with_gaps_is_refused(refused, file_experiment) -> None:
    experiment = file_experiment(with_values("duties", {1: ""}, quarterly_rows().assign(duties=0)))
    refused("validate", experiment, message(msg.TARGET_ALL_ZERO, column="owed_duty"))


def test_a_constant_target_is_refused(refused, file_experiment) -> None:
    experiment = file_experiment(quarterly_rows().assign(duties=7))
    refused("train", experiment, message(msg.TARGET_CONSTANT, column="owed_duty", value=7.0))


# Files that are not what they say ---------------------------------------------------------------


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_a_csv_not_separated_by_commas_is_named(refused, workdir, write_experiment, separator, name) -> None:
    quarterly_rows().to_csv(workdir / "panel.csv", index=False, sep=separator)
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    header = ("\\t" if separator == "\t" else separator).join(quarterly_rows().columns)
    refused(
        "train",
        experiment,
        message(msg.NOT_COMMA_SEPARATED, path=workdir / "panel.csv", name=name, header=header),
        fix(msg.NOT_COMMA_SEPARATED),
    )


def test_a_european_csv_with_decimal_commas_is_named_semicolon_separated(refused, workdir, write_experiment) -> None:
    text = "code;quarter;duties;claims;name;region\nE06000001;2019Q1;10;50,5;Area 0;South\n"
    (workdir / "panel.csv").write_text(text)
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    refused("validate", experiment, "looks semicolon-separated, not comma-separated")


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("code,quarter,duties,claims,name,region,duties", "'duties'"),
        ("code,quarter,duties,claims,name,region, duties ,claims", "'duties' and 'claims'"),
    ],
    ids=["repeated", "repeated-with-spaces"],
)
def test_duplicate_column_names_are_named(refused, workdir, write_experiment, header, names) -> None:
    rows = quarterly_rows()
    extra = len(header.split(",")) - rows.shape[1]
    body = "\n".join(",".join(map(str, list(r) + ["1"] * extra)) for r in rows.itertuples(index=False))
    (workdir / "panel.csv").write_text(header + "\n" + body + "\n")
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    refused(
        "train",
        experiment,
        message(msg.DUPLICATE_COLUMNS, path=workdir / "panel.csv", names=names),
        fix(msg.DUPLICATE_COLUMNS),
    )


def test_a_fifo_is_refused_not_read(workdir, write_experiment, commands) -> None:
    os.mkfifo(workdir / "panel.csv")
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    done = run_alone(commands, "validate", experiment, cwd=workdir)
    assert done.returncode == 2
    assert message(msg.NOT_A_REGULAR_FILE, path=workdir / "panel.csv", kind="a named pipe (FIFO)") in done.stderr
    assert "Traceback" not in done.stderr


def test_a_csv_named_link_to_dev_zero_is_refused_not_read(workdir, write_experiment, commands) -> None:
    (workdir / "panel.csv").symlink_to("/dev/zero")
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    done = run_alone(commands, "train", experiment, cwd=workdir)
    assert done.returncode == 2
    assert message(msg.NOT_A_REGULAR_FILE, path=workdir / "panel.csv", kind="a character device") in done.stderr
    assert fix(msg.NOT_A_REGULAR_FILE) in done.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["panel.csv", "test_experiment.yaml"]


def test_a_folder_named_like_a_panel_is_refused(refused, workdir, write_experiment) -> None:
    (workdir / "panel.csv").mkdir()
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    refused("validate", experiment, message(msg.NOT_A_REGULAR_FILE, path=workdir / "panel.csv", kind="a folder"))


def test_a_link_to_a_regular_file_is_read(cli, workdir, write_experiment) -> None:
    quarterly_rows().to_csv(workdir / "real.csv", index=False)
    (workdir / "panel.csv").symlink_to(workdir / "real.csv")
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    assert cli("validate", experiment).exit_code == 0


def test_a_broken_link_is_reported_as_missing(refused, workdir, write_experiment) -> None:
    (workdir / "panel.csv").symlink_to(workdir / "gone.csv")
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    refused("validate", experiment, message(msg.FILE_NOT_FOUND, path=workdir / "panel.csv"))


def test_a_2_gb_csv_is_refused_with_the_limit_before_reading(workdir, write_experiment, commands) -> None:
    with (workdir / "panel.csv").open("wb") as handle:  # sparse: takes no disk space
        handle.write(b"code,quarter,duties,claims,name,region\n")
        handle.truncate(2 * 2**30)
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    done = run_alone(commands, "train", experiment, cwd=workdir)
    assert done.returncode == 2, done.stderr
    expected = message(msg.FILE_TOO_LARGE, path=workdir / "panel.csv", size_mb=2048, limit_mb=1024)
    assert expected in done.stderr and fix(msg.FILE_TOO_LARGE) in done.stderr
    assert "Traceback" not in done.stderr


def test_the_size_limit_is_configurable(refused, workdir, file_experiment) -> None:
    experiment = file_experiment(max_file_mb=0.0001)
    size = (workdir / "panel.csv").stat().st_size / 2**20
    refused(
        "validate", experiment, message(msg.FILE_TOO_LARGE, path=workdir / "panel.csv", size_mb=size, limit_mb=0.0001)
    )


# History: validate and train share one rule --------------------------------------------------------


@pytest.mark.parametrize("periods", [1, 5, 6, 9])
def test_validate_and_train_agree_on_how_many_periods_a_panel_needs(workdir, file_experiment, periods) -> None:
    """The rule `validate` applies (workbench.data.history) is the one the backtest refuses by."""
    from workbench.backtest import rolling_origins
    from workbench.config import load_experiment
    from workbench.data.history import history_findings
    from workbench.data.load import load_panel
    from workbench.errors import ConfigError

    experiment = load_experiment(file_experiment(quarterly_rows(periods=periods)))
    panel = load_panel(experiment.data)
    findings = history_findings(panel, experiment)
    b = experiment.backtest
    try:
        rolling_origins(
            first_period=panel.frame["period"].min(),
            last_period=panel.frame["period"].max(),
            origins=b.origins,
            step=b.step,
            max_horizon=max(experiment.horizons),
            min_train_periods=b.min_train_periods,
        )
        train_refuses = False
    except ConfigError:
        train_refuses = True
    needed = b.min_train_periods + max(experiment.horizons) + b.step * (b.origins - 1)
    assert bool(findings) == train_refuses == (periods < needed)
    if findings:
        first = panel.frame["period"].min()
        assert (
            findings[0]
            .render()
            .startswith(
                message(
                    msg.TOO_FEW_PERIODS,
                    have=periods,
                    first=first,
                    last=panel.frame["period"].max(),
                    needed=needed,
                    min_train=b.min_train_periods,
                    origins=b.origins,
                    step=b.step,
                    horizon=max(experiment.horizons),
                )
            )
        )


@pytest.mark.parametrize("periods", [1, 2])
def test_validate_refuses_a_panel_too_short_to_train(refused, file_experiment, periods) -> None:
    experiment = file_experiment(quarterly_rows(periods=periods))
    refused("validate", experiment, "backtest needs 6 (4 to train on before the first origin", fix(msg.TOO_FEW_PERIODS))


@pytest.mark.parametrize("periods", [1, 2])
def test_train_refuses_a_panel_too_short_to_train(refused, workdir, write_experiment, periods) -> None:
    quarterly_rows(periods=periods).to_csv(workdir / "panel.csv", index=False)
    experiment = write_experiment(
        {"file": {"path": "panel.csv", "columns": FILE_COLUMNS}},
        models=[{"model": "naive"}, {"model": "seasonal_naive"}],
    )
    refused("train", experiment, "backtest needs 6 (4 to train on before the first origin")


# Experiment YAML: names and paths ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["..", ".", "../escape", "a/b", ".hidden", "two words", "x" * 65, "-dash", "é"])
def test_experiment_names_must_be_slugs(refused, workdir, name) -> None:
    path = workdir / "named.yaml"
    path.write_text(yaml.safe_dump({"name": name, "target": "owed_duty", "data": {"synthetic": {}}}))
    refused("train", path, f"{path}: name: '{name}' {NAME_RULE}")


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            {"missing_covariates": "zero"},
            "data.file.missing_covariates: Input should be 'refuse', 'fill_forward' or 'keep'",
        ),
        ({"max_count": -1}, "data.file.max_count: Input should be greater than 0"),
        ({"max_file_mb": 0}, "data.file.max_file_mb: Input should be greater than 0"),
    ],
)
def test_input_rule_settings_are_checked(refused, write_experiment, setting, expected) -> None:
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS, **setting}})
    refused("validate", experiment, expected)


def test_relative_paths_are_read_from_the_project_root_not_the_current_folder(cli, workdir, monkeypatch) -> None:
    project = workdir / "project"
    (project / "experiments").mkdir(parents=True)
    (project / "data").mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'demand'\n")
    quarterly_rows().to_csv(project / "data" / "panel.csv", index=False)
    experiment = project / "experiments" / "demand.yaml"
    experiment.write_text(
        yaml.safe_dump(
            {
                "name": "demand",
                "target": "owed_duty",
                "data": {"file": {"path": "data/panel.csv", "columns": FILE_COLUMNS}},
                "backtest": {"origins": 2, "min_train_periods": 4},
            }
        )
    )
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    for cwd in (elsewhere, project / "experiments", project):  # the root is found when the command runs
        monkeypatch.chdir(cwd)
        done = cli("validate", experiment)
        assert done.exit_code == 0, (cwd, done.output)
    assert list(elsewhere.iterdir()) == []


def test_an_absolute_path_is_kept(cli, workdir, write_experiment) -> None:
    quarterly_rows().to_csv(workdir / "panel.csv", index=False)
    experiment = write_experiment({"file": {"path": str(workdir / "panel.csv"), "columns": FILE_COLUMNS}})
    assert cli("validate", experiment).exit_code == 0
