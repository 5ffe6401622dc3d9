"""Plain-language drivers: what changed against the area's own reference, and, as a separate and
labelled view, how the area differs from a typical area.

- The change view (first, what a reader asks): the forecast against the area's reference (its last
  few periods, or the same period last year), with the amounts by concept from `contrast.py` as
  percentages of the reference level; they add up to the whole change. The reference is named in
  every sentence.
- The typical-area view: SHAP values against the training rows' average, as multiplicative effects
  ("2.8 times a typical area's"), so the size of an area is never read as a rise.

Structural breaks (the COVID period) are context for periods outside the break, never drivers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.base import ModelSpec
from workbench.data.contract import AREA, AREA_NAME, HORIZON, ORIGIN, TARGET_PERIOD
from workbench.explain.contrast import Contrast
from workbench.explain.units import by_concept, percent
from workbench.explain.values import AdditiveExplanation
from workbench.explain.wording import PHRASES, RESIDUAL, RESIDUAL_PHRASE, Wording
from workbench.numbers import count

BASELINE_SENTENCES = {
    "naive": "the latest observed value ({reference} in {origin})",
    "seasonal_naive": "the value in the same period a year before",
    "recent_mean": "the average of the recent periods",
}


def _names(codes: pd.Series, names: pd.Series) -> pd.Series:
    """Area names where known, else the code."""
    mapped = codes.map(names).astype(object)
    return mapped.where(mapped.notna(), codes).astype(str)


def phrase(concept: str) -> str:
    return PHRASES.get(concept, concept)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _up_down(pct: float) -> str:
    """A signed share of the reference level in words: 'up 7.1%', 'down 0.4%', 'little effect'."""
    if not np.isfinite(pct) or abs(pct) < 0.05:
        return "little effect"
    return f"{'up' if pct > 0 else 'down'} {abs(pct):,.1f}%"


def _typical(pct: float) -> str:
    """A multiplicative effect against a typical area, never worded as a rise."""
    ratio = 1 + pct / 100
    if ratio >= 2 or ratio <= 0.5:
        return f"{ratio:,.1f} times a typical area's"
    if abs(pct) < 0.05:
        return "little effect"
    return f"{abs(pct):,.1f}% {'higher' if pct > 0 else 'lower'} than a typical area's"


def opening(
    name: str,
    forecast: float,
    period: str,
    lower: float,
    upper: float,
    level: float,
    latest: float,
    target_label: str,
    reference: str = "",
) -> str:
    """The forecast, its interval, and either the reference level (when the change is explained
    against it) or the latest figure."""
    interval = f" ({level:.0%} interval {count(lower)} to {count(upper)})" if np.isfinite(lower) else ""
    text = f"{name}: {count(forecast)} {target_label} forecast for {period}{interval}"
    if reference:
        text += f"; {reference}"
    elif np.isfinite(latest) and latest > 0:
        text += f", {_up_down((forecast / latest - 1) * 100)} on the latest figure ({count(latest)})"
    return text


def change_sentence(wording: Wording, change_pct: float, drivers: list[tuple[str, float]], rest: float) -> str:
    """'Compared with the last four quarters in this area, the forecast is up 12.3%. The model's main
    reasons: ... The rest (up 2.3%) reflects ups and downs ...'."""
    if not np.isfinite(change_pct):
        return ""
    direction = _up_down(change_pct).replace("little effect", "about the same")
    text = f"Compared with {wording.reference_name}, the forecast is {direction}."
    parts = [f"{wording.phrase(c)} ({_up_down(p)})" for c, p in drivers]
    if parts:
        text += f" The model's main reasons: {_join(parts)}."
    if np.isfinite(rest) and abs(rest) >= 0.05:
        text += f" The rest ({_up_down(rest)}) reflects {RESIDUAL_PHRASE}."
    return text


def typical_sentence(wording: Wording, drivers: list[tuple[str, float]]) -> str:
    parts = [f"{wording.phrase(c, typical=True)} ({_typical(p)})" for c, p in drivers]
    return f"Compared with a typical area (a separate view, not a change over time): {_join(parts)}." if parts else ""


def _ranked(frame: pd.DataFrame, periods: pd.Series, wording: Wording, top: int) -> list[list[tuple[str, float]]]:
    """Per row, the `top` concepts by absolute size, structural breaks left out outside the break."""
    out = []
    for values, period in zip(frame.to_numpy(float), periods, strict=True):
        pairs = [
            (c, v)
            for c, v in zip(frame.columns, values, strict=True)
            if np.isfinite(v) and not wording.is_context(c, period)
        ]
        out.append(sorted(pairs, key=lambda p: -abs(p[1]))[:top])
    return out


def driver_table(
    explanation: AdditiveExplanation,
    *,
    rows: pd.DataFrame,
    names: pd.Series,
    lower: np.ndarray,
    upper: np.ndarray,
    level: float,
    top: int = 3,
    wording: Wording | None = None,
    contrast: Contrast | None = None,
) -> pd.DataFrame:
    """One row per explained forecast: the change against the reference and its top drivers (in per
    cent of the reference level and in the target's units), the typical-area drivers, and sentences."""
    wording = wording or Wording()
    table = explanation.keys.copy()
    table[AREA_NAME] = _names(table[AREA], names)
    table["forecast"], table["lower"], table["upper"] = explanation.forecast, lower, upper
    table["latest"] = rows["ref_last"].to_numpy(float)
    periods = table[TARGET_PERIOD]
    typical = _ranked(percent(explanation, by_concept(explanation)), periods, wording, top)
    if contrast is not None:
        reference = contrast.reference
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = contrast.amounts.div(np.where(reference > 0, reference, np.nan), axis=0) * 100
        changes = _ranked(shares.drop(columns=RESIDUAL), periods, wording, top)
        rest = shares[RESIDUAL].to_numpy(float)
        amount, column = contrast.amounts.to_numpy(float), {c: j for j, c in enumerate(contrast.amounts.columns)}
    else:
        reference = np.full(len(table), np.nan)
        changes = [[] for _ in range(len(table))]
        amount, column = np.empty((len(table), 0)), {}
        rest = np.full(len(table), np.nan)
    table["reference"] = wording.reference_name
    table["reference_level"] = reference
    with np.errstate(divide="ignore", invalid="ignore"):
        table["change_vs_reference"] = np.where(reference > 0, table["forecast"] / reference - 1, np.nan)
    for rank in range(top):
        picked = [c[rank] if rank < len(c) else (None, np.nan) for c in changes]
        table[f"driver_{rank + 1}"] = [p[0] for p in picked]
        table[f"driver_{rank + 1}_percent"] = [p[1] for p in picked]
        table[f"driver_{rank + 1}_label"] = [wording.phrase(p[0]) if p[0] is not None else None for p in picked]
        table[f"driver_{rank + 1}_amount"] = [
            amount[i, column[p[0]]] if p[0] is not None else np.nan for i, p in enumerate(picked)
        ]
    for rank in range(top):
        picked = [t[rank] if rank < len(t) else (None, np.nan) for t in typical]
        table[f"typical_driver_{rank + 1}"] = [p[0] for p in picked]
        table[f"typical_driver_{rank + 1}_percent"] = [p[1] for p in picked]
    table["rest_percent"] = rest
    change_text = [
        change_sentence(wording, c * 100, d, r)
        for c, d, r in zip(table["change_vs_reference"], changes, rest, strict=True)
    ]
    typical_text = [typical_sentence(wording, t) for t in typical]
    table["change_text"] = change_text
    table["typical_text"] = typical_text
    table["context"] = [wording.context(p) for p in periods]
    table["drivers_text"] = [
        " ".join(x for x in parts if x) for parts in zip(change_text, typical_text, table["context"], strict=True)
    ]
    averages = [
        f"{wording.reference_name.replace('in this area', 'averaged')} {count(v)}" if np.isfinite(v) else ""
        for v in reference
    ]
    table["sentence"] = [
        opening(
            str(r.area_name),
            r.forecast,
            str(r.target_period),
            r.lower,
            r.upper,
            level,
            r.latest,
            wording.target_label,
            average,
        )
        + f". {r.drivers_text}".rstrip()
        for r, average in zip(table.itertuples(index=False), averages, strict=True)
    ]
    return table


def baseline_table(
    spec: ModelSpec,
    *,
    rows: pd.DataFrame,
    forecast: pd.DataFrame,
    names: pd.Series,
    level: float,
    wording: Wording | None = None,
) -> pd.DataFrame:
    """Baselines and per-series classical models are explained as what they are: a copy of an earlier
    value, or the method the spec describes of itself."""
    wording = wording or Wording()
    model = spec.model
    known = model in BASELINE_SENTENCES
    method = BASELINE_SENTENCES[model].split(" (")[0] if known else spec.describe()
    table = rows[[AREA, ORIGIN, HORIZON, TARGET_PERIOD]].reset_index(drop=True)
    table[AREA_NAME] = _names(table[AREA], names)
    for column in ("forecast", "lower", "upper"):
        table[column] = forecast[column].to_numpy(float)
    table["latest"] = rows["ref_last"].to_numpy(float)
    table["driver_1"] = None
    table["drivers_text"] = f"This baseline repeats {method}." if known else f"This forecast comes from {method}."
    table["sentence"] = [
        opening(
            str(r.area_name), r.forecast, str(r.target_period), r.lower, r.upper, level, r.latest, wording.target_label
        )
        + (
            f". This baseline repeats {BASELINE_SENTENCES[model].format(reference=count(r.latest), origin=r.origin)}."
            if known
            else f". This forecast comes from {method}."
        )
        for r in table.itertuples(index=False)
    ]
    return table
