"""Scoring ledger entries against the actuals of a newer panel.

Per row: error = forecast - actual (below zero is an under-forecast, the harm that matters for
services), absolute and percentage error, whether the actual fell inside the interval, and the
weighted interval score (WIS) of the central interval with the point forecast as its median:

    WIS = (0.5 * |y - m| + (alpha / 2) * IS) / 1.5,  IS = (u - l) + (2 / alpha) * (l - y)+ + (2 / alpha) * (y - u)+

with alpha = 1 - level (Bracher et al. 2021, one interval). Per period: MAE, WAPE, MAPE, signed
bias Σ(f - a) / Σa, coverage and mean WIS; per audit group: the signed bias.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from workbench.data.contract import ACTUAL, AREA, PERIOD, TARGET_PERIOD
from workbench.ledger.entries import GROUP_PREFIX


def wis(actual: np.ndarray, median: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: np.ndarray) -> np.ndarray:
    alpha = 1 - np.asarray(level, dtype=float)
    interval = (
        (upper - lower) + 2 / alpha * np.clip(lower - actual, 0, None) + 2 / alpha * np.clip(actual - upper, 0, None)
    )
    score: np.ndarray = (0.5 * np.abs(actual - median) + alpha / 2 * interval) / 1.5
    return score


def actuals_for(panel_frame: pd.DataFrame, target: str) -> pd.Series:
    """The target by (area, period as text), dropping periods not yet published."""
    frame = panel_frame[[AREA, PERIOD, target]].dropna(subset=[target])
    return frame.set_index([frame[AREA], frame[PERIOD].astype(str)])[target].rename_axis([AREA, TARGET_PERIOD])


def actuals_digest(entries: pd.DataFrame, actuals: pd.Series) -> str | None:
    """A digest of the actuals that resolve these entries: the vintage a score is keyed to. The same
    actuals in a longer panel give the same digest; a revision of any of them gives a new one.
    None when no entry is resolved yet."""
    resolved = _matched(entries, actuals).dropna()
    if resolved.empty:
        return None
    text = "\n".join(f"{a}|{p}|{v!r}" for (a, p), v in sorted(resolved.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _matched(entries: pd.DataFrame, actuals: pd.Series) -> pd.Series:
    keys = pd.MultiIndex.from_arrays([entries[AREA], entries[TARGET_PERIOD]])
    return pd.Series(actuals.reindex(keys).to_numpy(), index=keys)


def score_entries(entries: pd.DataFrame, actuals: pd.Series) -> pd.DataFrame:
    """The entries whose actual is published, each with its scores. Never changes `entries`."""
    actual = _matched(entries, actuals).to_numpy()
    scored = entries.assign(actual=actual).loc[~np.isnan(actual)].copy()
    y, f = scored[ACTUAL].to_numpy(float), scored["forecast"].to_numpy(float)
    lower, upper = scored["lower"].to_numpy(float), scored["upper"].to_numpy(float)
    scored["error"] = f - y
    scored["abs_error"] = np.abs(f - y)
    with np.errstate(divide="ignore", invalid="ignore"):
        scored["pct_error"] = np.where(y > 0, (f - y) / y, np.nan)
    scored["hit"] = (y >= lower) & (y <= upper)
    scored["above"] = y > upper
    scored["wis"] = wis(y, f, lower, upper, scored["level"].to_numpy(float))
    return scored.reset_index(drop=True)


def _summary(part: pd.DataFrame) -> dict[str, float]:
    actual = part[ACTUAL].sum()
    return {
        "mae": float(part["abs_error"].mean()),
        "wape": float(part["abs_error"].sum() / actual) if actual else float("nan"),
        "mape": float(part["pct_error"].abs().mean()),
        "bias": float(part["error"].sum() / actual) if actual else float("nan"),
        "coverage": float(part["hit"].mean()),
        "above_rate": float(part["above"].mean()),
        "wis": float(part["wis"].mean()),
        "areas": float(part[AREA].nunique()),
    }


def period_metrics(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per target period with the summary scores."""
    rows = [{TARGET_PERIOD: p, **_summary(part)} for p, part in scored.groupby(TARGET_PERIOD, sort=True)]
    return pd.DataFrame(rows)


def group_bias(scored: pd.DataFrame) -> pd.DataFrame:
    """Signed volume-weighted bias Σ(f - a) / Σa by target period, grouping and group, with the
    share of actuals above the interval (missed need)."""
    rows = []
    for column in [c for c in scored.columns if c.startswith(GROUP_PREFIX)]:
        for (period, group), part in scored.groupby([TARGET_PERIOD, column], sort=True):
            actual = part[ACTUAL].sum()
            rows.append(
                {
                    TARGET_PERIOD: period,
                    "grouping": column.removeprefix(GROUP_PREFIX),
                    "group": group,
                    "areas": int(part[AREA].nunique()),
                    "bias": float(part["error"].sum() / actual) if actual else float("nan"),
                    "above_rate": float(part["above"].mean()),
                }
            )
    return pd.DataFrame(rows, columns=[TARGET_PERIOD, "grouping", "group", "areas", "bias", "above_rate"])
