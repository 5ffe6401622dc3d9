"""Bad inputs: each gets its own message naming the file, column, rows and the fix, a non-zero
exit, and leaves nothing behind in the working directory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import FILE_COLUMNS, quarterly_rows
from workbench.data import messages as msg


def message(entry: tuple[str, str], **values: object) -> str:
    return entry[0].format(**values)


def fix(entry: tuple[str, str], **values: object) -> str:
    return entry[1].format(**values)


def run_and_expect_failure(cli, workdir: Path, experiment: Path, *expected: str) -> str:
    before = sorted(p.name for p in workdir.iterdir())
    result = cli("train", experiment)
    output = result.output
    assert result.exit_code == 2, output
    assert "error:" in output
    for text in expected:
        assert text in output, f"expected {text!r} in:\n{output}"
    assert sorted(p.name for p in workdir.iterdir()) == before, "the failed command left files behind"
    assert "Traceback" not in output
    return output


def test_missing_file(cli, workdir, write_experiment) -> None:
    experiment = write_experiment({"file": {"path": "nowhere.csv", "columns": FILE_COLUMNS}})
    run_and_expect_failure(
        cli, workdir, experiment, message(msg.FILE_NOT_FOUND, path=workdir / "nowhere.csv"), fix(msg.FILE_NOT_FOUND)
    )


def test_wrong_file_type(cli, workdir, write_experiment) -> None:
    (workdir / "panel.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    experiment = write_experiment({"file": {"path": "panel.xlsx", "columns": FILE_COLUMNS}})
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(msg.WRONG_FILE_TYPE, path=workdir / "panel.xlsx", suffix=".xlsx"),
        fix(msg.WRONG_FILE_TYPE),
    )


@pytest.mark.parametrize("content", ["", "code,quarter,duties,claims,name,region\n"], ids=["zero-bytes", "header-only"])
def test_empty_file(cli, workdir, write_experiment, content) -> None:
    (workdir / "panel.csv").write_text(content)
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}})
    run_and_expect_failure(cli, workdir, experiment, message(msg.EMPTY_FILE, path=workdir / "panel.csv"))


def test_corrupt_parquet(cli, workdir, write_experiment) -> None:
    (workdir / "panel.parquet").write_bytes(b"this is not parquet at all")
    experiment = write_experiment({"file": {"path": "panel.parquet", "columns": FILE_COLUMNS}})
    output = run_and_expect_failure(cli, workdir, experiment)
    assert f"panel file '{workdir / 'panel.parquet'}' could not be read as parquet" in output


def test_yaml_maps_a_column_that_does_not_exist(cli, workdir, file_experiment) -> None:
    columns = {**FILE_COLUMNS, "targets": {"owed_duty": "dutys"}}
    experiment = file_experiment(columns=columns)
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(
            msg.MAPPED_COLUMN_MISSING,
            column="dutys",
            role="data.file.columns.targets.owed_duty",
            found="code, quarter, duties, claims, name, region",
        ),
        fix(msg.MAPPED_COLUMN_MISSING),
    )


def test_missing_area_column_under_its_default_name(cli, workdir, file_experiment) -> None:
    columns = {k: v for k, v in FILE_COLUMNS.items() if k != "area"}  # defaults to 'area_code'
    experiment = file_experiment(columns=columns)
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(
            msg.MAPPED_COLUMN_MISSING,
            column="area_code",
            role="data.file.columns.area",
            found="code, quarter, duties, claims, name, region",
        ),
    )


def test_duplicate_rows(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    experiment = file_experiment(pd.concat([rows, rows.iloc[[3]]], ignore_index=True))
    # the repeated row is line 5 (header is line 1) and its copy is the last line, 26
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        "panel.csv",
        message(msg.DUPLICATE_KEYS, n=1),
        "areas E06000001; periods 2019Q4; rows 5, 26",
        fix(msg.DUPLICATE_KEYS),
    )


def test_gap_in_a_series(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    experiment = file_experiment(rows.drop(index=[10]))  # E07000002, 2019Q3
    run_and_expect_failure(
        cli, workdir, experiment, message(msg.GAPS, n=1), "areas E07000002; periods E07000002 2019Q3", fix(msg.GAPS)
    )


def test_negative_counts(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    rows.loc[17, "duties"] = -4
    experiment = file_experiment(rows)
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(msg.NEGATIVE_COUNTS, column="owed_duty", n=1),
        "areas E09000003; periods 2019Q2; rows 19",
        fix(msg.NEGATIVE_COUNTS),
    )


def test_non_numeric_counts(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows().astype({"duties": object})
    rows.loc[[2, 5], "duties"] = "twelve"
    experiment = file_experiment(rows)
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(msg.NON_NUMERIC, column="owed_duty", n=2, example="twelve"),
        "rows 4, 7",
        fix(msg.NON_NUMERIC, example="twelve"),
    )


def test_markers_listed_as_missing_are_accepted(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows().astype({"duties": object})
    rows.loc[[2, 5], "duties"] = "[x]"
    experiment = file_experiment(rows, na_values=["[x]"])
    result = cli("validate", experiment)
    assert result.exit_code == 0, result.output
    assert message(msg.MISSING_TARGET_VALUES, column="owed_duty", n=2) in result.output


def test_unparseable_period(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    rows.loc[4, "quarter"] = "2020Q5"
    experiment = file_experiment(rows)
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(msg.UNPARSEABLE_PERIOD, column="quarter", n=1, example="2020Q5"),
        "rows 6",
        fix(msg.UNPARSEABLE_PERIOD),
    )


def test_mixed_frequencies(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    rows.loc[0, "quarter"] = "2019-01"
    experiment = file_experiment(rows)
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(msg.MIXED_FREQUENCY, column="quarter", examples="month ('2019-01'), quarter ('2019Q2')"),
        fix(msg.MIXED_FREQUENCY),
    )


def test_declared_frequency_does_not_match(cli, workdir, file_experiment) -> None:
    experiment = file_experiment(frequency="month")
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(msg.FREQUENCY_MISMATCH, column="quarter", found="quarter", example="2019Q1", declared="month"),
    )


def test_unknown_area_code_format(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    rows.loc[rows["code"] == "E09000003", "code"] = "E1000003"
    experiment = file_experiment(rows)
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        message(msg.BAD_AREA_CODE, column="area_code", n=8, pattern=r"^E0[6-9]\d{6}$", example="E1000003"),
        fix(msg.BAD_AREA_CODE),
    )


def test_missing_area_code_values(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    rows.loc[9, "code"] = None
    experiment = file_experiment(rows)
    run_and_expect_failure(cli, workdir, experiment, message(msg.MISSING_KEY, n=1, what="area code"), "rows 11")


def test_target_all_missing(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    rows["duties"] = None
    experiment = file_experiment(rows)
    run_and_expect_failure(
        cli, workdir, experiment, message(msg.TARGET_ALL_MISSING, column="owed_duty"), fix(msg.TARGET_ALL_MISSING)
    )


def test_static_attribute_that_changes_over_time(cli, workdir, file_experiment) -> None:
    rows = quarterly_rows()
    rows.loc[12, "region"] = "East"
    experiment = file_experiment(rows)
    run_and_expect_failure(
        cli, workdir, experiment, message(msg.STATIC_VARIES, column="region", n=1), "areas E07000002"
    )


def test_unknown_key_in_the_yaml(cli, workdir, write_experiment) -> None:
    experiment = write_experiment({"file": {"path": "panel.csv", "colums": FILE_COLUMNS}})
    run_and_expect_failure(
        cli,
        workdir,
        experiment,
        f"{experiment.name}: unknown key 'colums' at data.file; known: path, columns, frequency, "
        "area_code_pattern, na_values, missing_covariates, max_count, max_file_mb; did you mean 'columns'?",
    )


def test_yaml_that_does_not_parse(cli, workdir) -> None:
    experiment = workdir / "broken.yaml"
    experiment.write_text("name: x\ndata: [unclosed\n")
    run_and_expect_failure(cli, workdir, experiment, "broken.yaml: not valid YAML")


def test_experiment_target_that_the_panel_does_not_have(cli, workdir, file_experiment, write_experiment) -> None:
    file_experiment()
    experiment = write_experiment({"file": {"path": "panel.csv", "columns": FILE_COLUMNS}}, target="evictions")
    run_and_expect_failure(cli, workdir, experiment, "target 'evictions' is not one of the panel's targets: owed_duty")


def test_missing_experiment_file(cli, workdir) -> None:
    run_and_expect_failure(cli, workdir, workdir / "absent.yaml", "absent.yaml' does not exist")
