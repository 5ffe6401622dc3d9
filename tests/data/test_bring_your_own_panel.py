"""Panels from elsewhere load through the column mapping: other countries, other frequencies, other codes."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.config import load_experiment
from workbench.data.contract import AREA, AREA_NAME, PERIOD, Frequency
from workbench.data.load import load_panel
from workbench.data.synthetic.england import generate_england


def test_us_county_by_year_with_leading_zero_fips(workdir, write_experiment) -> None:
    """The shape of a county-by-year eviction-filings table: 5-digit FIPS codes, a year column."""
    rows = [
        {
            "GEOID": geoid,
            "year": year,
            "name": name,
            "parent-location": state,
            "eviction-filings": filings,
            "renter-occupied-households": renters,
        }
        for geoid, name, state in (
            ("01001", "Autauga County", "Alabama"),
            ("06037", "Los Angeles County", "California"),
        )
        for year, filings, renters in ((2014, 120, 6000), (2015, 131, 6100), (2016, 118, 6150))
    ]
    pd.DataFrame(rows).to_csv(workdir / "counties.csv", index=False)
    experiment = write_experiment(
        {
            "file": {
                "path": "counties.csv",
                "frequency": "year",
                "area_code_pattern": r"^\d{5}$",
                "columns": {
                    "area": "GEOID",
                    "period": "year",
                    "area_name": "name",
                    "targets": {"evictions": "eviction-filings"},
                    "covariates": {"renters": {"column": "renter-occupied-households", "count": True}},
                    "static": {"state": "parent-location"},
                    "groups": ["state"],
                },
            }
        },
        target="evictions",
    )
    panel = load_panel(load_experiment(experiment).data)
    assert panel.spec.frequency is Frequency.YEAR
    assert list(panel.areas) == ["01001", "06037"]  # leading zero kept
    assert panel.frame[PERIOD].dtype == pd.PeriodDtype("Y-DEC")
    assert [str(p) for p in panel.periods] == ["2014", "2015", "2016"]
    assert panel.static_table().loc["06037", "state"] == "California"
    assert panel.frame.loc[panel.frame[AREA] == "01001", "evictions"].tolist() == [120.0, 131.0, 118.0]


def test_state_by_quarter_with_separate_year_and_quarter_columns(workdir, write_experiment) -> None:
    rows = [
        {"state_fips": f"{fips:02d}", "yr": year, "qtr": q, "claims": 100 + fips + q}
        for fips in (6, 36, 48)
        for year in (2021, 2022)
        for q in (1, 2, 3, 4)
    ]
    pd.DataFrame(rows).to_parquet(workdir / "states.parquet", index=False)
    experiment = write_experiment(
        {
            "file": {
                "path": "states.parquet",
                "area_code_pattern": r"^\d{2}$",
                "columns": {"area": "state_fips", "period": {"year": "yr", "quarter": "qtr"}, "targets": ["claims"]},
            }
        },
        target="claims",
    )
    panel = load_panel(load_experiment(experiment).data)
    assert panel.spec.frequency is Frequency.QUARTER  # inferred from the values
    assert str(panel.periods[0]) == "2021Q1" and str(panel.periods[-1]) == "2022Q4"
    assert panel.frame.groupby(AREA).size().to_dict() == {"06": 8, "36": 8, "48": 8}


def test_monthly_panel_with_dates(workdir, write_experiment) -> None:
    """Scottish council areas by month, periods given as first-of-month dates."""
    months = pd.date_range("2023-01-01", periods=6, freq="MS").strftime("%Y-%m-%d")
    rows = [
        {"council": code, "month": m, "applications": 30 + i}
        for code in ("S12000033", "S12000034")
        for i, m in enumerate(months)
    ]
    pd.DataFrame(rows).to_csv(workdir / "scotland.csv", index=False)
    experiment = write_experiment(
        {
            "file": {
                "path": "scotland.csv",
                "frequency": "month",
                "area_code_pattern": r"^S12\d{6}$",
                "columns": {"area": "council", "period": "month", "targets": ["applications"]},
            }
        },
        target="applications",
    )
    panel = load_panel(load_experiment(experiment).data)
    assert panel.spec.frequency is Frequency.MONTH
    assert [str(p) for p in panel.periods] == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]


def test_synthetic_england_round_trips_through_the_file_path(workdir, cli) -> None:
    """`workbench synthesize` writes a CSV that the shipped file experiment reads back unchanged
    (from a copy of the project, whose relative paths are read from its root)."""
    result = cli("synthesize", "--out", "data/synthetic/england.csv")
    assert result.exit_code == 0, result.output
    from pathlib import Path

    shipped = workdir / "experiments" / "england_from_file.yaml"
    shipped.parent.mkdir()
    shipped.write_text((Path(__file__).parents[2] / "experiments" / "england_from_file.yaml").read_text())
    panel = load_panel(load_experiment(shipped).data)
    original = generate_england()
    assert len(panel.frame) == len(original) == 296 * 33
    merged = panel.frame.merge(original, on=[AREA, PERIOD], suffixes=("", "_orig"))
    for column in ("owed_duty", "households_in_ta", "claimant_rate", "possession_claims_rate"):
        pd.testing.assert_series_equal(merged[column], merged[f"{column}_orig"], check_names=False)
    assert panel.static_table()[AREA_NAME].nunique() == 296
    assert set(panel.spec.groups) == {
        "region",
        "area_type",
        "urban_rural",
        "deprivation_quintile",
        "ethnic_minority_band",
    }
    assert panel.spec.publication_lag("private_rent_index") == 2


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2021Q3", "2021Q3"),
        ("2021-Q3", "2021Q3"),
        ("2021 Q3", "2021Q3"),
        ("Q3 2021", "2021Q3"),
        ("Jul-Sep 2021", "2021Q3"),
        ("July to September 2021", "2021Q3"),
        ("2021-07-01", "2021Q3"),
    ],
)
def test_quarter_spellings(text, expected) -> None:
    from workbench.data.periods import parse_periods

    parsed = parse_periods(pd.Series([text]), frequency=Frequency.QUARTER)
    assert str(parsed.periods.iloc[0]) == expected
    assert not parsed.unparseable.any() and not parsed.mixed
