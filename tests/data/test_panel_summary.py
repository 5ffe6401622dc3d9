"""`workbench validate`'s summary: counts are summed, rates are not, and a rate per 1,000 households
appears only where the panel has households to divide by."""

from __future__ import annotations

import pandas as pd
import pytest
from rich.console import Console

from workbench.config import load_experiment
from workbench.data.contract import AREA, HOUSEHOLDS, PERIOD, Covariate, Frequency, Panel, PanelSpec
from workbench.data.load import load_panel
from workbench.data.summary import render_summary, summarise
from workbench.errors import ConfigError

PERIODS = pd.period_range("2023Q1", "2023Q2", freq="Q")


def _panel(values: dict[str, dict[str, list[float]]], *, rates: tuple[str, ...] = ()) -> Panel:
    """One row per area and period; `values[column][area]` holds the column's values over PERIODS."""
    areas = sorted(next(iter(values.values())))
    frame = pd.DataFrame(
        [
            {AREA: area, PERIOD: period, **{column: series[area][i] for column, series in values.items()}}
            for area in areas
            for i, period in enumerate(PERIODS)
        ]
    )
    targets = tuple(c for c in values if c != HOUSEHOLDS)
    covariates = (Covariate(HOUSEHOLDS, count=True),) if HOUSEHOLDS in values else ()
    spec = PanelSpec(frequency=Frequency.QUARTER, targets=targets, covariates=covariates, rates=rates)
    return Panel(frame, spec, source="test")


def _printed(panel: Panel) -> str:
    console = Console(width=200, record=True, highlight=False)
    render_summary(console, summarise(panel))
    return console.export_text()


def test_a_count_is_summed_and_divided_by_the_households_of_the_same_areas() -> None:
    panel = _panel(
        {
            "owed_duty": {"A": [1, 30], "B": [2, 50], "C": [3, None]},
            HOUSEHOLDS: {"A": [9000, 10000], "B": [19000, 20000], "C": [29000, 30000]},
        }
    )
    row = summarise(panel).targets.set_index("target").loc["owed_duty"]
    assert row["2023Q2"] == 80
    assert row["across areas"] == "sum of 2 of 3 areas"
    assert row["per 1,000 households"] == pytest.approx(80 / 30000 * 1000)  # C's households are left out


def test_a_target_without_households_has_no_per_households_column() -> None:
    panel = _panel({"murders": {"A": [4, 5], "B": [0, 7]}})
    targets = summarise(panel).targets
    assert "per 1,000 households" not in targets.columns
    assert targets.set_index("target").loc["murders", "2023Q2"] == 12
    printed = _printed(panel)
    assert "households" not in printed and "nan" not in printed.lower()


def test_a_rate_shows_its_median_across_areas_and_no_total() -> None:
    panel = _panel(
        {
            "owed_duty": {"A": [1, 30], "B": [2, 50], "C": [3, 10]},
            "duty_rate": {"A": [1.0, 3.0], "B": [2.0, 5.0], "C": [3.0, 40.0]},
            HOUSEHOLDS: {"A": [9000, 10000], "B": [19000, 20000], "C": [29000, 30000]},
        },
        rates=("duty_rate",),
    )
    targets = summarise(panel).targets.set_index("target")
    assert targets.loc["duty_rate", "2023Q2"] == 5.0  # the median, not the sum of 48
    assert targets.loc["duty_rate", "across areas"] == "median of 3 areas (a rate: not summed)"
    assert pd.isna(targets.loc["duty_rate", "per 1,000 households"])
    assert targets.loc["owed_duty", "across areas"] == "sum of 3 areas"
    rate_line = next(line for line in _printed(panel).splitlines() if "duty_rate" in line)
    assert "48" not in rate_line and "nan" not in rate_line.lower() and " - " in rate_line


def test_a_target_with_no_values_in_the_latest_period_shows_no_zero_total() -> None:
    panel = _panel({"murders": {"A": [4, None], "B": [0, None]}})
    row = summarise(panel).targets.set_index("target").loc["murders"]
    assert pd.isna(row["2023Q2"]) and row["across areas"] == "no values in 2023Q2"


def test_rates_are_declared_in_the_column_mapping_and_must_be_targets(workdir, write_experiment) -> None:
    rows = [
        {"fips": fips, "year": year, "murders": m, "murder_rate": r}
        for fips, m, r in (("01001", 3, 5.5), ("06037", 600, 6.0))
        for year in (2014, 2015, 2016)
    ]
    pd.DataFrame(rows).to_csv(workdir / "counties.csv", index=False)
    columns = {"area": "fips", "period": "year", "targets": ["murders", "murder_rate"], "rates": ["murder_rate"]}
    source = {"file": {"path": "counties.csv", "area_code_pattern": r"^\d{5}$", "columns": columns}}
    panel = load_panel(load_experiment(write_experiment(source, target="murders")).data)
    assert panel.spec.rates == ("murder_rate",)
    assert summarise(panel).targets.set_index("target").loc["murder_rate", "2016"] == pytest.approx(5.75)

    with pytest.raises(ValueError, match=r"rates \['murder_rate'\] must also be declared as targets"):
        PanelSpec(frequency=Frequency.YEAR, targets=("murders",), rates=("murder_rate",))


def test_a_rate_that_is_not_a_mapped_target_is_refused_with_the_targets_named(workdir, write_experiment) -> None:
    columns = {"area": "fips", "period": "year", "targets": ["murders"], "rates": ["murder_rate"]}
    source = {"file": {"path": "counties.csv", "columns": columns}}
    with pytest.raises(ConfigError, match=r"rates \['murder_rate'\] must be names under 'targets' \(murders\)"):
        load_experiment(write_experiment(source, target="murders"))
