"""Synthetic England looks like the published statistics (DOMAIN.md) and carries the planted drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data.contract import GSS_DISTRICT_PATTERN
from workbench.data.synthetic.england import COVID_PERIODS, SPEC, PlantedEffects, generate_england
from workbench.data.validate import validate_panel

# (quarter, owed a duty, prevention, relief, households in TA) from the official releases
PUBLISHED = [
    ("2019Q4", 67_280, 34_010, 33_270, 88_330),
    ("2020Q1", 75_140, 38_450, 36_690, 93_000),
    ("2020Q2", 63_570, 25_520, 38_040, 98_300),
    ("2023Q1", 79_840, 37_890, 41_950, 104_510),
    ("2024Q1", 86_520, 38_440, 48_080, 117_450),
    ("2024Q2", 83_230, 37_250, 45_980, 123_100),
]
DUTY_TOLERANCE = 0.06  # national owed-duty totals within 6% of the published figure
SPLIT_TOLERANCE = 0.08  # prevention and relief within 8%
TA_TOLERANCE = 0.05  # temporary accommodation within 5%


@pytest.fixture(scope="module")
def england() -> pd.DataFrame:
    return generate_england()


@pytest.fixture(scope="module")
def national(england: pd.DataFrame) -> pd.DataFrame:
    columns = ["owed_duty", "owed_prevention", "owed_relief", "households_in_ta", "households"]
    totals = england.groupby("period")[columns].sum()
    totals.index = totals.index.astype(str)
    return totals


def test_areas_match_englands_districts(england: pd.DataFrame) -> None:
    areas = england.drop_duplicates("area_code")
    assert len(areas) == 296
    assert areas["area_code"].str.match(GSS_DISTRICT_PATTERN).all()
    by_prefix = areas["area_code"].str[:3].value_counts().to_dict()
    assert by_prefix == {"E07": 164, "E06": 63, "E08": 36, "E09": 33}
    by_region = areas.groupby("region_code").size().to_dict()
    assert by_region == {
        "E12000001": 12,
        "E12000002": 35,
        "E12000003": 15,
        "E12000004": 35,
        "E12000005": 30,
        "E12000006": 45,
        "E12000007": 33,
        "E12000008": 64,
        "E12000009": 27,
    }
    assert (areas.loc[areas["region"] == "London", "area_code"].str[:3] == "E09").all()
    assert areas.set_index("area_code").loc["E06000053", "area_name"] == "Isles of Scilly"
    assert areas.set_index("area_code").loc["E06000053", "region"] == "South West"


def test_quarters_run_from_2018q2_to_the_configured_end(england: pd.DataFrame) -> None:
    assert str(england["period"].min()) == "2018Q2"
    assert str(england["period"].max()) == "2026Q2"
    shorter = generate_england(end="2024Q4")
    assert str(shorter["period"].max()) == "2024Q4"
    assert len(shorter) == 296 * 27


def test_panel_meets_the_contract(england: pd.DataFrame) -> None:
    findings = validate_panel(england, SPEC)
    assert [f for f in findings if f.severity == "error"] == []


@pytest.mark.parametrize("quarter,duty,prevention,relief,ta", PUBLISHED)
def test_national_totals_match_published_magnitudes(national, quarter, duty, prevention, relief, ta) -> None:
    row = national.loc[quarter]
    assert row["owed_duty"] == pytest.approx(duty, rel=DUTY_TOLERANCE)
    assert row["owed_prevention"] == pytest.approx(prevention, rel=SPLIT_TOLERANCE)
    assert row["owed_relief"] == pytest.approx(relief, rel=SPLIT_TOLERANCE)
    assert row["households_in_ta"] == pytest.approx(ta, rel=TA_TOLERANCE)


def test_households_and_rates_per_thousand(england: pd.DataFrame, national: pd.DataFrame) -> None:
    assert national.loc["2024Q1", "households"] == pytest.approx(24.2e6, rel=0.02)
    rate = national["owed_duty"] / national["households"] * 1000
    assert rate.between(2.5, 4.2).all(), rate.round(2).to_dict()
    q = england[england["period"] == pd.Period("2020Q4", freq="Q")]
    area_rate = q["owed_duty"] / q["households"] * 1000
    assert area_rate.max() < 12  # published maximum about 6.7; one synthetic outlier is tolerated
    rural = q[q["urban_rural"] == "Predominantly rural"]
    assert (rural["owed_duty"] / rural["households"] * 1000).median() < 2.0  # most rural authorities below 2


def test_london_temporary_accommodation_is_far_higher(england: pd.DataFrame) -> None:
    q = england[england["period"] == pd.Period("2024Q1", freq="Q")]
    london = q["region"] == "London"
    per_1000 = lambda part: part["households_in_ta"].sum() / part["households"].sum() * 1000  # noqa: E731
    assert per_1000(q[london]) == pytest.approx(17.8, rel=0.15)
    assert per_1000(q[~london]) == pytest.approx(2.5, rel=0.20)


def test_january_to_march_is_the_seasonal_peak(national: pd.DataFrame) -> None:
    duty = national["owed_duty"]
    peaks = [duty[f"{y}Q1"] / duty[f"{y - 1}Q4"] for y in (2019, 2023, 2024, 2025, 2026)]
    dips = [duty[f"{y}Q2"] / duty[f"{y}Q1"] for y in (2019, 2022, 2023, 2024, 2025, 2026)]
    assert 1.05 <= np.mean(peaks) <= 1.15, peaks  # about +10% on Oct-Dec
    assert 0.90 <= np.mean(dips) <= 0.98, dips  # Apr-Jun dips 4-8%
    by_quarter = duty.groupby(duty.index.str[-1]).mean()
    assert by_quarter.idxmax() == "1"


def test_covid_break(england: pd.DataFrame, national: pd.DataFrame) -> None:
    prevention_change = national.loc["2020Q2", "owed_prevention"] / national.loc["2019Q2", "owed_prevention"] - 1
    relief_change = national.loc["2020Q2", "owed_relief"] / national.loc["2019Q2", "owed_relief"] - 1
    assert -0.40 <= prevention_change <= -0.24  # published: -32%
    assert 0.05 <= relief_change <= 0.25  # published: +14%
    claims = (
        england.assign(claims=england["possession_claims_rate"] * england["households"])
        .groupby("period")["claims"]
        .sum()
    )
    claims.index = claims.index.astype(str)
    for quarter, fall in (("2020Q2", -0.89), ("2020Q3", -0.86), ("2020Q4", -0.67)):
        year_before = str(pd.Period(quarter, freq="Q") - 4)
        assert claims[quarter] / claims[year_before] - 1 == pytest.approx(fall, abs=0.06)
    assert national.loc["2020Q2", "households_in_ta"] > national.loc["2020Q1", "households_in_ta"]
    assert COVID_PERIODS == ("2020Q2", "2020Q3", "2020Q4", "2021Q1", "2021Q2")


def test_trends_rise(national: pd.DataFrame) -> None:
    assert national.loc["2025Q1", "owed_duty"] > national.loc["2019Q1", "owed_duty"] * 1.15
    ta = national["households_in_ta"]
    assert ta["2026Q2"] > ta["2022Q1"] * 1.3


def test_small_districts_have_small_counts(england: pd.DataFrame) -> None:
    scilly = england[england["area_code"] == "E06000053"]
    assert scilly["owed_duty"].max() < 10
    assert (england["owed_duty"] < 10).sum() >= 33  # small cells exist for disclosure control to act on


def test_covariates_arrive_with_their_publication_lag(england: pd.DataFrame) -> None:
    last = england["period"].max()
    for covariate in SPEC.covariates:
        published = england.loc[england[covariate.name].notna(), "period"].max()
        assert published == last - covariate.publication_lag, covariate.name
        assert england.loc[england["period"] <= published, covariate.name].notna().all()


def test_same_seed_same_numbers_and_other_seed_differs(england: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(england, generate_england())
    other = generate_england(seed=7)
    assert not other["owed_duty"].equals(england["owed_duty"])


def test_groupings_for_audits_are_present_and_usable(england: pd.DataFrame) -> None:
    areas = england.drop_duplicates("area_code")
    assert sorted(areas["deprivation_quintile"].unique()) == [1, 2, 3, 4, 5]
    assert areas["deprivation_quintile"].value_counts().min() >= 59
    # quintile 1 is the most deprived
    assert areas.groupby("deprivation_quintile")["deprivation_score"].mean().is_monotonic_decreasing
    for group in SPEC.groups:
        assert areas[group].value_counts().min() >= 10, group
    assert areas.groupby("region")["ethnic_minority_share"].mean().idxmax() == "London"


def test_planted_effects_are_recoverable(england: pd.DataFrame) -> None:
    """A regression with period fixed effects on the published columns recovers the documented effects."""
    effects = PlantedEffects()
    f = england.sort_values(["area_code", "period"]).copy()
    by_area = f.groupby("area_code")
    f["possession"] = np.log(by_area["possession_claims_rate"].shift(effects.possession_lag) + 10)
    f["claimant"] = np.log(by_area["claimant_rate"].shift(effects.claimant_lag))
    log_rent = np.log(f["private_rent_index"])
    f["rent_growth"] = (
        (log_rent - log_rent.groupby(f["area_code"]).shift(4)).groupby(f["area_code"]).shift(effects.rent_growth_lag)
    )
    f["rural"] = (f["urban_rural"] == "Predominantly rural").astype(float)
    f["london"] = (f["region"] == "London").astype(float)
    f["y"] = np.log((f["owed_duty"] + 0.5) / f["households"])
    columns = ["possession", "claimant", "rent_growth", "deprivation_score", "rural", "london"]
    d = f.dropna(subset=[*columns, "y"])
    demeaned = d[[*columns, "y"]] - d[[*columns, "y"]].groupby(d["period"]).transform("mean")
    beta = dict(
        zip(
            columns, np.linalg.lstsq(demeaned[columns].to_numpy(), demeaned["y"].to_numpy(), rcond=None)[0], strict=True
        )
    )
    assert beta["possession"] == pytest.approx(effects.possession_elasticity, abs=0.07)
    assert beta["claimant"] == pytest.approx(effects.claimant_elasticity, abs=0.12)
    assert beta["rent_growth"] == pytest.approx(effects.rent_growth_effect, abs=1.5)
    assert beta["deprivation_score"] == pytest.approx(effects.deprivation_effect, abs=0.005)
    assert beta["rural"] == pytest.approx(effects.rural_effect, abs=0.08)
