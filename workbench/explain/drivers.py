"""Plain-language drivers: the top concepts behind each area's forecast, in a sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.explain.units import by_concept, households, percent
from workbench.explain.values import AdditiveExplanation

PHRASES = {
    "recent demand": "recent demand in the area",
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


def phrase(concept: str) -> str:
    return PHRASES.get(concept, concept)


def _effect(pct: float) -> str:
    direction = "up" if pct >= 0 else "down"
    return f"{direction} {abs(pct):.0f}%" if abs(pct) >= 0.5 else "little effect"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _opening(name: str, forecast: float, period: str, lower: float, upper: float, level: float, latest: float,
             target_label: str) -> str:
    interval = f" ({level:.0%} interval {lower:,.0f} to {upper:,.0f})" if np.isfinite(lower) else ""
    text = f"{name}: {forecast:,.0f} {target_label} forecast for {period}{interval}"
    if np.isfinite(latest) and latest > 0:
        change = forecast / latest - 1
        verb = "up" if change >= 0 else "down"
        text += f", {verb} {abs(change):.0%} on the latest figure ({latest:,.0f})"
    return text


def driver_table(explanation: AdditiveExplanation, *, rows: pd.DataFrame, names: pd.Series, lower: np.ndarray,
                 upper: np.ndarray, level: float, top: int = 3, target_label: str = "households") -> pd.DataFrame:
    """One row per explained forecast: the top `top` concepts with their size, and a sentence."""
    concept_values = by_concept(explanation)
    concept_households = households(explanation, concept_values)
    concept_percent = percent(explanation, concept_values)
    latest = rows["ref_last"].to_numpy(float)
    records = []
    for i, key in explanation.keys.iterrows():
        order = concept_values.iloc[i].abs().sort_values(ascending=False).index[:top]
        record = {**key.to_dict(), "area_name": names.get(key["area_code"], key["area_code"]),
                  "forecast": explanation.forecast[i], "lower": lower[i], "upper": upper[i], "latest": latest[i]}
        parts = []
        for rank, concept in enumerate(order, start=1):
            pct = float(concept_percent.iloc[i][concept])
            record[f"driver_{rank}"] = concept
            record[f"driver_{rank}_percent"] = round(pct, 1)
            record[f"driver_{rank}_households"] = round(float(concept_households.iloc[i][concept]), 1)
            parts.append(f"{phrase(concept)} ({_effect(pct)})")
        opening = _opening(str(record["area_name"]), explanation.forecast[i], str(key["target_period"]), lower[i],
                           upper[i], level, latest[i], target_label)
        record["sentence"] = (f"{opening}. Main drivers, against a typical area: {_join(parts)}." if parts
                              else f"{opening}.")
        records.append(record)
    return pd.DataFrame(records)


def baseline_table(model: str, *, rows: pd.DataFrame, forecast: pd.DataFrame, names: pd.Series, level: float,
                   target_label: str = "households") -> pd.DataFrame:
    """Baselines are explained as what they are: a copy of an earlier value."""
    records = []
    for (_, row), (_, f) in zip(rows.iterrows(), forecast.iterrows(), strict=True):
        name = names.get(row["area_code"], row["area_code"])
        opening = _opening(str(name), f["forecast"], str(row["target_period"]), f["lower"], f["upper"], level,
                           row["ref_last"], target_label)
        how = BASELINE_SENTENCES[model].format(reference=row["ref_last"], origin=row["origin"])
        records.append({**{k: row[k] for k in ("area_code", "origin", "horizon", "target_period")},
                        "area_name": name, "forecast": f["forecast"], "lower": f["lower"], "upper": f["upper"],
                        "latest": row["ref_last"], "driver_1": "recent demand",
                        "sentence": f"{opening}. This baseline repeats {how}."})
    return pd.DataFrame(records)
