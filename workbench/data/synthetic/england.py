"""Synthetic England: a seeded, realistic quarterly panel of the 296 local authority districts.

National levels follow the published magnitudes in the homelessness statistics (owed a prevention
or relief duty, households in temporary accommodation), with the January–March peak, the COVID
break of 2020Q2–2021Q2, upward trends and area-level noise. Each area's level is set by its
size, deprivation and urban/rural class; its movements by the covariates through effects that
are planted here and written down in `PlantedEffects`, so tests can check that models and
explanations recover them. Covariates reach the panel with a publication lag: the last
`publication_lag` quarters are missing because they would not be published yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.data.contract import (
    AREA,
    AREA_NAME,
    AREA_TYPE,
    DEPRIVATION_QUINTILE,
    PERIOD,
    REGION,
    URBAN_RURAL,
    Covariate,
    Frequency,
    PanelSpec,
)
from workbench.data.synthetic.defaults import DEFAULT_END, DEFAULT_SEED, DEFAULT_START
from workbench.data.synthetic.geography import CITY_OF_LONDON, ISLES_OF_SCILLY, england_districts

_BURN_IN = 6  # quarters of covariates simulated before the start so lagged effects exist from day one

TARGETS = ("owed_duty", "owed_prevention", "owed_relief", "households_in_ta")
COVARIATES = (
    Covariate("households", publication_lag=0, count=True),
    Covariate("claimant_rate", publication_lag=1),
    Covariate("private_rent_index", publication_lag=2),
    Covariate("possession_claims_rate", publication_lag=1, count=True),
)
STATIC = (
    AREA_NAME,
    REGION,
    "region_code",
    AREA_TYPE,
    URBAN_RURAL,
    "deprivation_score",
    DEPRIVATION_QUINTILE,
    "ethnic_minority_share",
    "ethnic_minority_band",
)
GROUPS = (REGION, AREA_TYPE, URBAN_RURAL, DEPRIVATION_QUINTILE, "ethnic_minority_band")
URBAN_CLASSES = ("Predominantly urban", "Urban with significant rural", "Predominantly rural")
MINORITY_BANDS = ((0.05, "under 5%"), (0.15, "5% to 15%"), (0.30, "15% to 30%"), (1.01, "30% and over"))

SPEC = PanelSpec(
    frequency=Frequency.QUARTER,
    targets=TARGETS,
    covariates=COVARIATES,
    static=STATIC,
    groups=GROUPS,
    numeric_static=("deprivation_score", "ethnic_minority_share"),
)

# National paths as (quarter, value) knots, linearly interpolated; values past the last knot carry
# the last slope. Owed duties are deseasonalised and exclude the COVID factor, in thousands.
OWED_DUTY_KNOTS = (
    ("2018Q2", 66.0),
    ("2019Q4", 69.7),
    ("2020Q1", 70.9),
    ("2021Q4", 72.5),
    ("2023Q1", 75.3),
    ("2024Q1", 81.6),
    ("2024Q2", 84.5),
    ("2026Q2", 92.0),
)
PREVENTION_SHARE_KNOTS = (
    ("2018Q2", 0.505),
    ("2020Q1", 0.512),
    ("2020Q2", 0.40),
    ("2020Q3", 0.45),
    ("2020Q4", 0.47),
    ("2021Q2", 0.48),
    ("2023Q1", 0.475),
    ("2024Q1", 0.444),
    ("2026Q2", 0.445),
)
TA_KNOTS = (
    ("2018Q2", 82.3),
    ("2019Q4", 88.3),
    ("2020Q1", 93.0),
    ("2020Q2", 98.3),
    ("2021Q2", 95.5),
    ("2022Q1", 96.0),
    ("2023Q1", 104.5),
    ("2024Q1", 117.5),
    ("2024Q2", 123.1),
    ("2026Q2", 140.0),
)
CLAIMANT_KNOTS = (
    ("2017Q1", 2.3),
    ("2019Q4", 2.8),
    ("2020Q1", 3.0),
    ("2020Q2", 6.2),
    ("2020Q3", 6.5),
    ("2021Q1", 6.2),
    ("2021Q2", 5.6),
    ("2021Q4", 4.3),
    ("2022Q4", 3.8),
    ("2024Q4", 4.2),
    ("2026Q2", 4.3),
)
RENT_GROWTH_KNOTS = (
    ("2017Q1", 0.012),
    ("2020Q4", 0.015),
    ("2021Q4", 0.025),
    ("2022Q4", 0.045),
    ("2023Q4", 0.070),
    ("2024Q3", 0.085),
    ("2025Q2", 0.065),
    ("2026Q2", 0.040),
)
POSSESSION_KNOTS = (
    ("2017Q1", 88.0),
    ("2019Q4", 80.0),
    ("2020Q1", 78.0),
    ("2020Q2", 9.0),
    ("2020Q3", 11.5),
    ("2020Q4", 26.0),
    ("2021Q1", 28.0),
    ("2021Q2", 30.0),
    ("2021Q4", 45.0),
    ("2022Q2", 55.0),
    ("2023Q1", 62.0),
    ("2024Q1", 66.0),
    ("2026Q2", 70.0),
)
HOUSEHOLDS_2024 = 24.2e6
HOUSEHOLD_GROWTH = 0.006  # a year


@dataclass(frozen=True)
class PlantedEffects:
    """The true drivers of the synthetic targets. Covariate effects act on each area's deviation
    from the national average of the same quarter, at the stated lag, on the log of expected demand;
    `lag` is publication lag + 1, so every effect is visible at a one-quarter-ahead forecast origin."""

    possession_elasticity: float = 0.35  # owed duty, per log-unit of (possession claims per 100k + 10)
    possession_lag: int = 2
    claimant_elasticity: float = 0.30  # owed duty, per log-unit of claimant rate
    claimant_lag: int = 2
    rent_growth_effect: float = 4.0  # owed duty, per unit of annual log-growth in private rents
    rent_growth_lag: int = 3
    deprivation_effect: float = 0.015  # owed duty and TA, per point of deprivation score (static)
    rural_effect: float = -0.20  # owed duty, predominantly rural against urban (static)
    ta_rent_level_effect: float = 1.5  # TA, per log-unit of rent index relative to national, lag 3
    ta_duty_pressure_effect: float = 0.4  # TA, per log-unit of the last four quarters' owed-duty rate
    london_ta_factor: float = 7.0  # TA rate in London against the rest of England
    seasonal: dict[int, float] = field(default_factory=lambda: {1: 1.06, 2: 0.985, 3: 1.01, 4: 0.965})
    covid: dict[str, float] = field(
        default_factory=lambda: {"2020Q2": 0.905, "2020Q3": 0.95, "2020Q4": 0.97, "2021Q1": 0.98, "2021Q2": 0.99}
    )


COVID_PERIODS = ("2020Q2", "2020Q3", "2020Q4", "2021Q1", "2021Q2")


def _path(knots: tuple[tuple[str, float], ...], periods: pd.PeriodIndex) -> np.ndarray:
    x = np.array([pd.Period(q, freq="Q").ordinal for q, _ in knots], dtype=float)
    y = np.array([v for _, v in knots], dtype=float)
    ordinals = periods.asi8.astype(float)
    values = np.interp(ordinals, x, y)
    slope_end = (y[-1] - y[-2]) / (x[-1] - x[-2])
    values = np.where(ordinals > x[-1], y[-1] + slope_end * (ordinals - x[-1]), values)
    slope_start = (y[1] - y[0]) / (x[1] - x[0])
    return np.asarray(np.where(ordinals < x[0], y[0] + slope_start * (ordinals - x[0]), values), dtype=float)


def _ar1(rng: np.random.Generator, *, shape: tuple[int, int], rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise along axis 1 with innovation sd `sd`."""
    shocks = rng.normal(0.0, sd, size=shape)
    out = np.empty(shape)
    out[:, 0] = shocks[:, 0] / np.sqrt(1 - rho**2)
    for t in range(1, shape[1]):
        out[:, t] = rho * out[:, t - 1] + shocks[:, t]
    return out


def _centre(values: np.ndarray) -> np.ndarray:
    """Deviation from the cross-area mean in each period (column)."""
    centred: np.ndarray = values - values.mean(axis=0, keepdims=True)
    return centred


def _areas(rng: np.random.Generator) -> pd.DataFrame:
    areas = england_districts(rng)
    kind = areas["type_key"].to_numpy()
    n = len(areas)
    median = pd.Series(kind).map({"london": 118e3, "metropolitan": 125e3, "unitary": 105e3, "shire": 50e3})
    spread = pd.Series(kind).map({"london": 0.22, "metropolitan": 0.35, "unitary": 0.45, "shire": 0.25})
    households = median.to_numpy() * np.exp(rng.normal(0, 1, n) * spread.to_numpy())
    households[areas[AREA].eq(ISLES_OF_SCILLY).to_numpy()] = 1_000
    households[areas[AREA].eq(CITY_OF_LONDON).to_numpy()] = 5_000
    scalable = ~areas[AREA].isin([ISLES_OF_SCILLY, CITY_OF_LONDON]).to_numpy()
    households[scalable] *= (HOUSEHOLDS_2024 - 6_000) / households[scalable].sum()
    areas["households_2024"] = households.round()

    region_dep = (
        areas["region_code"]
        .map(
            {
                "E12000001": 27,
                "E12000002": 26,
                "E12000003": 25,
                "E12000004": 20,
                "E12000005": 24,
                "E12000006": 16,
                "E12000007": 23,
                "E12000008": 14,
                "E12000009": 17,
            }
        )
        .to_numpy()
    )
    type_dep = pd.Series(kind).map({"london": 0, "metropolitan": 6, "unitary": 3, "shire": -3}).to_numpy()
    areas["deprivation_score"] = np.clip(region_dep + type_dep + rng.normal(0, 5.5, n), 5, 45).round(2)
    rank = areas["deprivation_score"].rank(ascending=False, method="first")  # rank 1 is most deprived
    areas[DEPRIVATION_QUINTILE] = np.ceil(rank * 5 / n).astype(int)

    p_urban = pd.Series(kind).map(
        {
            "london": [1, 0, 0],
            "metropolitan": [0.94, 0.06, 0],
            "unitary": [0.55, 0.25, 0.20],
            "shire": [0.22, 0.30, 0.48],
        }
    )
    areas[URBAN_RURAL] = [URBAN_CLASSES[rng.choice(3, p=p)] for p in p_urban]
    areas.loc[areas[AREA] == ISLES_OF_SCILLY, URBAN_RURAL] = "Predominantly rural"

    urban = areas[URBAN_RURAL].map({URBAN_CLASSES[0]: 1.0, URBAN_CLASSES[1]: 0.4, URBAN_CLASSES[2]: 0.0})
    logit = -3.4 + 1.6 * urban + 1.9 * (kind == "london") + 0.05 * (areas["deprivation_score"] - 20)
    share = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.45, n))))
    areas["ethnic_minority_share"] = share.round(3)
    areas["ethnic_minority_band"] = pd.cut(
        share, bins=[0, *[b for b, _ in MINORITY_BANDS]], labels=[label for _, label in MINORITY_BANDS]
    ).astype(str)
    return areas


def generate_england(
    *,
    seed: int = DEFAULT_SEED,
    start: str = DEFAULT_START,
    end: str = DEFAULT_END,
    effects: PlantedEffects | None = None,
    trend_per_year: float = 0.0,
) -> pd.DataFrame:
    """The synthetic panel in contract form (see `SPEC`). Same seed and arguments, same numbers.

    `trend_per_year` adds a steady national growth (0.2 = about +22% a year, compounding) to both
    targets, for trying models on a strongly trending panel."""
    effects = effects or PlantedEffects()
    rng = np.random.default_rng(seed)
    areas = _areas(rng)
    n = len(areas)
    periods = pd.period_range(start, end, freq="Q")
    sim = pd.period_range(periods[0] - _BURN_IN, periods[-1], freq="Q")
    T = len(sim)
    years = (sim.asi8 - pd.Period("2024Q1", freq="Q").ordinal) / 4.0
    dep = (areas["deprivation_score"].to_numpy() - 20.0)[:, None]
    london = (areas["region_code"] == "E12000007").to_numpy()[:, None]
    rural = (areas[URBAN_RURAL] == URBAN_CLASSES[2]).to_numpy()[:, None]
    households = areas["households_2024"].to_numpy()[:, None] * (1 + HOUSEHOLD_GROWTH) ** years[None, :]

    # Covariates ---------------------------------------------------------------------------------
    claimant = _path(CLAIMANT_KNOTS, sim)[None, :] * np.exp(
        0.03 * dep + rng.normal(0, 0.15, (n, 1)) + _ar1(rng, shape=(n, T), rho=0.85, sd=0.08)
    )
    growth = (
        _path(RENT_GROWTH_KNOTS, sim)[None, :]
        + rng.normal(0, 0.010, (n, 1))
        + _ar1(rng, shape=(n, T), rho=0.8, sd=0.004)
    )
    log_rent = np.log(100.0) + rng.normal(0, 0.02, (n, 1)) + np.cumsum(growth / 4.0, axis=1)
    log_rent -= (log_rent[:, [sim.get_loc(periods[0])]].mean()) - np.log(100.0)
    possession_rate = _path(POSSESSION_KNOTS, sim)[None, :] * np.exp(
        0.035 * dep + 0.35 * london + rng.normal(0, 0.25, (n, 1)) + _ar1(rng, shape=(n, T), rho=0.7, sd=0.15)
    )
    possession_counts = rng.poisson(possession_rate * households / 1e5)
    possession = possession_counts / households * 1e5
    annual_rent_growth = np.full((n, T), np.nan)
    annual_rent_growth[:, 4:] = log_rent[:, 4:] - log_rent[:, :-4]

    def lagged(values: np.ndarray, lag: int) -> np.ndarray:
        out = np.full_like(values, np.nan)
        out[:, lag:] = values[:, :-lag] if lag else values
        return out

    # Owed a prevention or relief duty -------------------------------------------------------------
    base = effects.deprivation_effect * dep + effects.rural_effect * rural + 0.10 * london + rng.normal(0, 0.15, (n, 1))
    drivers = (
        effects.possession_elasticity * _centre(lagged(np.log(possession + 10), effects.possession_lag))
        + effects.claimant_elasticity * _centre(lagged(np.log(claimant), effects.claimant_lag))
        + effects.rent_growth_effect * _centre(lagged(annual_rent_growth, effects.rent_growth_lag))
    )
    noise = _ar1(rng, shape=(n, T), rho=0.5, sd=0.05)
    relative = households / 1000 * np.exp(base + np.nan_to_num(drivers) + noise)
    seasonal = np.array([effects.seasonal[p.quarter] for p in sim])
    covid = np.array([effects.covid.get(str(p), 1.0) for p in sim])
    trend = np.exp(trend_per_year * (sim.asi8 - periods[0].ordinal) / 4.0)
    national = _path(OWED_DUTY_KNOTS, sim) * 1000 * seasonal * covid * trend
    expected = relative * (national / relative.sum(axis=0))[None, :]
    dispersion = 40.0  # gamma-Poisson: overdispersed counts, as real area counts are
    owed = rng.poisson(expected * rng.gamma(dispersion, 1 / dispersion, size=expected.shape))
    prevention = rng.binomial(owed, np.clip(_path(PREVENTION_SHARE_KNOTS, sim), 0, 1)[None, :])

    # Households in temporary accommodation (a stock at the end of the quarter) ----------------------
    duty_rate = owed / households * 1000
    pressure = pd.DataFrame(duty_rate.T).rolling(4, min_periods=1).mean().to_numpy().T
    ta_log = (
        np.log(effects.london_ta_factor) * london
        + 0.035 * dep
        + rng.normal(0, 0.35, (n, 1))
        + effects.ta_rent_level_effect * np.nan_to_num(_centre(lagged(log_rent, 3)))
        + effects.ta_duty_pressure_effect * np.nan_to_num(_centre(lagged(np.log(pressure + 0.1), 1)))
        + _ar1(rng, shape=(n, T), rho=0.9, sd=0.03)
    )
    ta_relative = households / 1000 * np.exp(ta_log)
    ta_expected = ta_relative * (_path(TA_KNOTS, sim) * 1000 * trend / ta_relative.sum(axis=0))[None, :]
    ta = rng.poisson(ta_expected)

    # Assemble the long panel ---------------------------------------------------------------------
    keep = slice(sim.get_loc(periods[0]), T)
    columns = {
        "owed_duty": owed,
        "owed_prevention": prevention,
        "owed_relief": owed - prevention,
        "households_in_ta": ta,
        "households": households.round(),
        "claimant_rate": claimant.round(2),
        "private_rent_index": np.exp(log_rent).round(1),
        "possession_claims_rate": possession.round(1),
    }
    frame = pd.DataFrame(
        {AREA: np.repeat(areas[AREA].to_numpy(), len(periods)), PERIOD: pd.PeriodIndex(np.tile(periods, n), freq="Q")}
    )
    for name, values in columns.items():
        frame[name] = values[:, keep].reshape(-1).astype(float)
    for covariate in COVARIATES:  # the latest quarters are not published yet
        if covariate.publication_lag:
            unpublished = frame[PERIOD] > periods[-1] - covariate.publication_lag
            frame.loc[unpublished, covariate.name] = np.nan
    static = areas.set_index(AREA)[list(STATIC)]
    return frame.join(static, on=AREA)[[AREA, PERIOD, *TARGETS, *(c.name for c in COVARIATES), *STATIC]]
