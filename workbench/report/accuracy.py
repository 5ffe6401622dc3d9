"""The report's "How accurate were our last forecasts?" section, the review banner, and the
monitoring fields of the model card and transparency record, all read from the forecast ledger.
Actuals and forecasts are shown under the same disclosure rule as the forecasts themselves."""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.data.contract import AREA, AREA_NAME, TARGET_PERIOD
from workbench.forecast_record import ForecastResult
from workbench.report.disclosure import MARKER, DisclosureRule, protect


def _rule(result: ForecastResult) -> DisclosureRule:
    return DisclosureRule(**result.experiment.report.disclosure.model_dump())


def banner(result: ForecastResult) -> str:
    m = result.monitoring
    if m is None or not m.review:
        return ""
    return (
        f"The model behind this forecast (version {result.champion.version}) has been flagged for review "
        f"on {m.checked_at[:10]}: {'; '.join(m.reasons)}. Use these forecasts with extra care until the team "
        "has reviewed it."
    )


def accuracy_context(result: ForecastResult) -> dict[str, Any] | None:
    """Sentences and a table by area for the latest scored period; None when nothing is scored yet."""
    m = result.monitoring
    if m is None or m.scored.empty:
        return None
    last, rule = m.last_period, _rule(result)
    names = result.panel.static_table().get(AREA_NAME, pd.Series(dtype=str))
    period = str(last[TARGET_PERIOD].iloc[0])
    label = result.experiment.report.target_label
    forecast, status = protect(last["forecast"].reset_index(drop=True), groups=None, rule=rule)
    actual, actual_status = protect(last["actual"].reset_index(drop=True), groups=None, rule=rule)
    hidden = (status != "") | (actual_status != "")
    inside = last["hit"].mean()
    total_error = last["error"].sum() / last["actual"].sum()
    direction = "above" if total_error > 0 else "below"
    rows = [
        {
            "code": code,
            "name": names.get(code, code),
            "forecast": forecast[i],
            "actual": actual[i],
            "inside": MARKER if hidden[i] else ("yes" if hit else "no"),
        }
        for i, (code, hit) in enumerate(zip(last[AREA], last["hit"], strict=True))
    ]
    groups = [
        {
            "grouping": g.removeprefix("group:"),
            "group": v,
            "areas": len(p),
            "bias": f"{p['error'].sum() / p['actual'].sum():+.1%}",
        }
        for g in [c for c in last.columns if c.startswith("group:")]
        for v, p in last.groupby(g, sort=True)
        if p["actual"].sum() > 0
    ]
    level = f"{last['level'].iloc[0]:.0%}"
    return {
        "period": period,
        "sentences": [
            f"For {period} we forecast {label} in {last[AREA].nunique()} areas. The actual number fell inside the "
            f"{level} range in {inside:.0%} of areas (we aim for about {level}).",
            f"Across all areas the forecasts were {abs(total_error):.1%} {direction} the actual total; "
            f"the typical area was out by {last['abs_error'].median():.0f}.",
            "A bias below zero in a group means its demand was under-forecast, the error that can leave "
            "services short. Small numbers are shown as [c] under the same disclosure rule as the forecasts.",
        ],
        "rows": rows,
        "groups": groups,
        "scored_with": f"actuals vintage {last['actuals_digest'].iloc[0][:8]} from {last['actuals_source'].iloc[0]}",
    }


def monitoring_lines(result: ForecastResult) -> list[str]:
    """The model card's monitoring section."""
    m = result.monitoring
    lines = ["## Monitoring", ""]
    if m is None:
        return [*lines, "- The forecast ledger was not read for this card.", ""]
    lines.append(
        f"- Forecast ledger: {m.forecasts_recorded} published forecast(s) recorded before this one; "
        f"{m.forecasts_scored} scored against actuals (`make score`)."
    )
    if not m.scored.empty:
        last = m.last_period
        lines.append(
            f"- Latest scored period {last['target_period'].iloc[0]}: WAPE "
            f"{last['abs_error'].sum() / last['actual'].sum():.1%}, bias {last['error'].sum() / last['actual'].sum():+.1%}, "
            f"{last['hit'].mean():.0%} of actuals inside the interval, mean WIS {last['wis'].mean():.2f}."
        )
    lines.append(
        f"- Review flag: {'raised' if m.review else 'not raised'}"
        + (f" ({'; '.join(m.reasons)})" if m.review else "")
        + (f", checked {m.checked_at}." if m.checked_at else "; not checked yet.")
    )
    lines.append(
        "- Rule: the champion is flagged for review when a feature's PSI against the training window reaches 0.25, "
        "when live WAPE is above the 95% range expected from the backtest, or when live interval coverage falls "
        "below its 95% range."
    )
    return [*lines, ""]


def monitoring_record(result: ForecastResult) -> dict[str, Any]:
    """The transparency record's performance-monitoring fields."""
    m = result.monitoring
    record = {
        "method": "Every published forecast is kept in an append-only ledger in MLflow and scored when actuals "
        "arrive (error, interval hit, weighted interval score, signed bias by group); input drift by PSI "
        "and performance drift against the backtest flag the model for human review.",
        "forecasts_recorded": m.forecasts_recorded if m else 0,
        "forecasts_scored": m.forecasts_scored if m else 0,
        "review_flag": bool(m and m.review),
        "review_reasons": list(m.reasons) if m else [],
    }
    if m is not None and not m.scored.empty:
        last = m.last_period
        record["latest_scored_period"] = str(last[TARGET_PERIOD].iloc[0])
        record["latest_coverage"] = round(float(last["hit"].mean()), 3)
        record["latest_wape"] = round(float(last["abs_error"].sum() / last["actual"].sum()), 4)
    return record
