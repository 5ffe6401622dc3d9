"""Synthetic small areas (LSOA-like): each district of synthetic England split into many small
areas, for testing the workbench at tens of thousands of areas.

Each district's counts are shared out among its small areas in proportion to their households
with area-level noise (so district totals are kept exactly); covariates are the district's with a
little local noise; static attributes are inherited and the district code is kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.contract import AREA, AREA_NAME, PERIOD
from workbench.data.synthetic.england import COVARIATES, SPEC, STATIC, TARGETS, generate_england

SMALL_AREA_PATTERN = r"^E01\d{6}$"
SMALL_AREA_SPEC = SPEC.__class__(
    **{**SPEC.__dict__, "area_code_pattern": SMALL_AREA_PATTERN, "static": (*SPEC.static, "district_code")}
)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder allocation of `total` small areas over districts, at least one each."""
    share = weights / weights.sum() * (total - len(weights))
    counts = np.floor(share).astype(int)
    counts[np.argsort(share - counts)[::-1][: total - len(weights) - counts.sum()]] += 1
    allocated: np.ndarray = counts + 1
    return allocated


def generate_small_areas(*, areas: int, seed: int, start: str, end: str, trend_per_year: float = 0.0) -> pd.DataFrame:
    districts = generate_england(seed=seed, start=start, end=end, trend_per_year=trend_per_year)
    rng = np.random.default_rng(seed + 1)
    static = districts.drop_duplicates(AREA).set_index(AREA)
    size = static.index.map(districts.groupby(AREA)["households"].first())
    per_district = _allocate(areas, np.asarray(size, dtype=float))
    parent = np.repeat(static.index.to_numpy(), per_district)
    weights = rng.dirichlet(np.full(int(per_district.max()), 20.0), size=len(static))
    share = np.concatenate([w[:k] / w[:k].sum() for w, k in zip(weights, per_district, strict=True)])
    codes = np.array([f"E01{i:06d}" for i in range(1, len(parent) + 1)])
    periods = pd.period_range(start, end, freq="Q")
    frame = pd.DataFrame(
        {
            AREA: np.repeat(codes, len(periods)),
            PERIOD: periods[np.tile(np.arange(len(periods)), len(codes))],  # stays a PeriodIndex: no objects
            "district_code": np.repeat(parent, len(periods)),
        }
    )
    district = districts.set_index([AREA, PERIOD])
    joined = district.reindex(pd.MultiIndex.from_arrays([frame["district_code"], frame[PERIOD]]))
    area_share = np.repeat(share, len(periods))
    noise = rng.gamma(8.0, 1 / 8.0, size=(len(codes), 1)) * rng.gamma(30.0, 1 / 30.0, size=(len(codes), len(periods)))
    for target in TARGETS:  # share each district count out by multinomial draws, keeping the total
        weights_t = area_share * noise.reshape(-1)
        frame[target] = _share_counts(
            joined[target].to_numpy(), weights_t, frame["district_code"].to_numpy(), frame[PERIOD].array.asi8, rng
        )
    frame["owed_relief"] = frame["owed_duty"] - np.minimum(frame["owed_prevention"], frame["owed_duty"])
    frame["owed_prevention"] = frame["owed_duty"] - frame["owed_relief"]
    frame["households"] = (joined["households"].to_numpy() * area_share).round()
    for covariate in COVARIATES[1:]:
        local = np.exp(rng.normal(0, 0.05, len(codes)))
        frame[covariate.name] = (joined[covariate.name].to_numpy() * np.repeat(local, len(periods))).round(2)
    for column in STATIC:
        frame[column] = joined[column].to_numpy()
    frame[AREA_NAME] = frame[AREA_NAME] + " " + frame[AREA].str[-4:]
    return frame[[AREA, PERIOD, *TARGETS, *(c.name for c in COVARIATES), *STATIC, "district_code"]]


def _share_counts(
    totals: np.ndarray, weights: np.ndarray, groups: np.ndarray, periods: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    out = np.zeros(len(totals))
    frame = pd.DataFrame({"g": groups, "p": periods, "w": weights, "t": totals})
    for _, idx in frame.groupby(["g", "p"], sort=False).indices.items():
        total = frame["t"].iat[idx[0]]
        if np.isnan(total) or total <= 0:
            out[idx] = 0 if not np.isnan(total) else np.nan
            continue
        w = frame["w"].to_numpy()[idx]
        out[idx] = rng.multinomial(int(total), w / w.sum())
    return out
