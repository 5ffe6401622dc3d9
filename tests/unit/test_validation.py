"""The contract checks on in-memory panels, and how findings read."""

from __future__ import annotations

import pandas as pd

from workbench.data import messages as msg
from workbench.data.contract import Covariate, Frequency, PanelSpec
from workbench.data.findings import Finding
from workbench.data.validate import validate_panel

SPEC = PanelSpec(
    frequency=Frequency.QUARTER,
    targets=("y",),
    covariates=(Covariate("x", publication_lag=1),),
    static=("region",),
    groups=("region",),
)


def frame(**changes) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "area_code": ["E06000001"] * 3 + ["E08000002"] * 3,
            "period": pd.PeriodIndex(["2020Q1", "2020Q2", "2020Q3"] * 2, freq="Q"),
            "y": [1.0, 2, 3, 4, 5, 6],
            "x": [0.5, 0.6, None, 0.1, 0.2, None],
            "region": ["A"] * 3 + ["B"] * 3,
        },
        index=range(2, 8),
    )
    return base.assign(**changes)


def test_a_valid_panel_has_no_findings() -> None:
    assert validate_panel(frame(), SPEC) == []


def test_a_declared_column_that_is_absent() -> None:
    findings = validate_panel(frame().drop(columns=["x"]), SPEC)
    assert [f.message for f in findings] == [msg.MISSING_COLUMN[0].format(column="x")]


def test_wrong_period_frequency_is_reported() -> None:
    monthly = frame(period=pd.PeriodIndex(["2020-01", "2020-02", "2020-03"] * 2, freq="M"))
    findings = validate_panel(monthly, SPEC)
    assert findings[0].check == "frequency_mismatch"


def test_missing_target_values_are_a_warning_not_an_error() -> None:
    findings = validate_panel(frame(y=[1.0, None, 3, 4, 5, 6]), SPEC)
    assert [(f.check, f.severity, f.rows) for f in findings] == [("missing_target_values", "warning", (3,))]


def test_covariates_may_be_negative_but_counts_may_not() -> None:
    assert validate_panel(frame(x=[-1.0, 0, 0, 0, 0, 0]), SPEC) == []
    counted = PanelSpec(
        frequency=Frequency.QUARTER, targets=("y",), covariates=(Covariate("x", count=True),), static=("region",)
    )
    assert [f.check for f in validate_panel(frame(x=[-1.0, 0, 0, 0, 0, 0]), counted)] == ["negative_counts"]


def test_render_names_location_and_fix_and_summarises_long_lists() -> None:
    finding = Finding(
        check="c",
        message="something is wrong",
        fix="do this",
        column="y",
        areas=tuple(f"A{i}" for i in range(8)),
        rows=(4,),
    )
    assert finding.render() == (
        "something is wrong [column 'y'; areas A0, A1, A2, A3, A4 and 3 more; rows 4]. Fix: do this"
    )
