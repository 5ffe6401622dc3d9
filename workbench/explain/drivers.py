"""Plain-language drivers: the top concepts behind each area's forecast, in a sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.explain.units import by_concept, households, percent
from workbench.explain.values import AdditiveExplanation

PHRASES = {
    "recent demand": "the area's size and recent demand",
    "seasonality": "the time of year",
    "COVID period": "the COVID period",
    "possession claims rate": "landlord possession claims",
    "claimant rate": "the claimant rate",
    "private rent index": "private rents",
    "deprivation": "deprivation",
    "urban/rural": "how urban or rural the area is",
    "region": "the region",
    "regional trend": "the trend in the rest of the region",
    "forecast horizon": "how far ahead the forecast is",
    "population make-up": "population make-up",
}
BASELINE_SENTENCES = {
    "naive": "the latest observed value ({reference:,.0f} in {origin})",
    "seasonal_naive": "the value in the same period a year before",
    "recent_mean": "the average of the recent periods",
}


def _names(codes: pd.Series, names: pd.Series) -> pd.Series:
    """Area names where known, else the code."""
    mapped = codes.map(names).astype(object)
    return mapped.where(mapped.notna(), codes).astype(str)


def phrase(concept: str) -> str:
    return PHRASES.get(concept, concept)


def _effect(pct: float) -> str:
    direction = "up" if pct >= 0 else "down"
    return f"{direction} {abs(pct):.0f}%" if abs(pct) >= 0.5 else "little effect"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def opening(
    name: str, forecast: float, period: str, lower: float, upper: float, level: float, latest: float, target_label: str
) -> str:
    interval = f" ({level:.0%} interval {lower:,.0f} to {upper:,.0f})" if np.isfinite(lower) else ""
    text = f"{name}: {forecast:,.0f} {target_label} forecast for {period}{interval}"
    if np.isfinite(latest) and latest > 0:
        change = forecast / latest - 1
        verb = "up" if change >= 0 else "down"
        text += f", {verb} {abs(change):.0%} on the latest figure ({latest:,.0f})"
    return text


def driver_table(
    explanation: AdditiveExplanation,
    *,
    rows: pd.DataFrame,
    names: pd.Series,
    lower: np.ndarray,
    upper: np.ndarray,
    level: float,
    top: int = 3,
    target_label: str = "households",
) -> pd.DataFrame:
    """One row per explained forecast: the top `top` concepts with their size, and a sentence."""
    concept_values = by_concept(explanation)
    concepts = np.asarray(concept_values.columns)
    order = np.argsort(-concept_values.abs().to_numpy(), axis=1, kind="stable")[:, :top]
    picked = np.take_along_axis(np.asarray(concepts)[None, :].repeat(len(order), 0), order, axis=1)
    pct = np.take_along_axis(percent(explanation, concept_values).to_numpy(), order, axis=1)
    hh = np.take_along_axis(households(explanation, concept_values).to_numpy(), order, axis=1)
    table = explanation.keys.copy()
    table["area_name"] = _names(table["area_code"], names)
    table["forecast"], table["lower"], table["upper"] = explanation.forecast, lower, upper
    table["latest"] = rows["ref_last"].to_numpy(float)
    for rank in range(order.shape[1]):
        table[f"driver_{rank + 1}"] = picked[:, rank]
        table[f"driver_{rank + 1}_percent"] = np.round(pct[:, rank], 1)
        table[f"driver_{rank + 1}_households"] = np.round(hh[:, rank], 1)
    sentences, reasons = [], []
    for i, row in enumerate(table.itertuples(index=False)):
        parts = [f"{phrase(picked[i, r])} ({_effect(pct[i, r])})" for r in range(order.shape[1])]
        first = opening(
            str(row.area_name),
            row.forecast,
            str(row.target_period),
            row.lower,
            row.upper,
            level,
            row.latest,
            target_label,
        )
        because = f"Main drivers, against a typical area: {_join(parts)}." if parts else ""
        reasons.append(because)
        sentences.append(f"{first}. {because}".strip())
    table["drivers_text"] = reasons
    table["sentence"] = sentences
    return table


def baseline_table(
    spec,
    *,
    rows: pd.DataFrame,
    forecast: pd.DataFrame,
    names: pd.Series,
    level: float,
    target_label: str = "households",
) -> pd.DataFrame:
    """Baselines and per-series classical models are explained as what they are: a copy of an earlier
    value, or the method the spec describes of itself."""
    model = spec.model
    known = model in BASELINE_SENTENCES
    method = BASELINE_SENTENCES[model].split(" (")[0] if known else spec.describe()
    table = rows[["area_code", "origin", "horizon", "target_period"]].reset_index(drop=True)
    table["area_name"] = _names(table["area_code"], names)
    for column in ("forecast", "lower", "upper"):
        table[column] = forecast[column].to_numpy(float)
    table["latest"] = rows["ref_last"].to_numpy(float)
    table["driver_1"] = "recent demand"
    table["drivers_text"] = f"This baseline repeats {method}." if known else f"This forecast comes from {method}."
    table["sentence"] = [
        opening(str(r.area_name), r.forecast, str(r.target_period), r.lower, r.upper, level, r.latest, target_label)
        + (
            f". This baseline repeats {BASELINE_SENTENCES[model].format(reference=r.latest, origin=r.origin)}."
            if known
            else f". This forecast comes from {method}."
        )
        for r in table.itertuples(index=False)
    ]
    return table
