"""Everything `make forecast` writes for policy teams, with disclosure control applied:
forecast.csv, report.html (self-contained), model_card.md, transparency_record.json and .md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader

from workbench.data.contract import AREA, AREA_NAME, HORIZON, PERIOD, REGION, TARGET_PERIOD
from workbench.forecast_record import ForecastResult
from workbench.numbers import decimal, percent, signed_percent
from workbench.report.accuracy import accuracy_context, banner
from workbench.report.caveats import caveats
from workbench.report.charts import drivers_chart, history_chart
from workbench.report.disclosure import MARKER, DisclosureRule, protect, protect_total, suppression_mask
from workbench.report.model_card import model_card, transparency_markdown, transparency_record
from workbench.report.safety import slug, write_published_csv
from workbench.report.totals import published_totals

INTERVAL_TEXT = (
    "Each forecast comes with an interval. With an {level} interval, the actual number is expected to "
    "fall inside the interval about {pct} times in 100; in the backtests of this model it did so "
    "{coverage} of the time. A wide interval means the model is unsure: plan for the whole range, not "
    "only the central figure. Intervals are wider in small areas, where a few households make a large "
    "difference, and further ahead."
)


NO_DRIVERS = "Drivers are not shown for this area, so that the suppressed number cannot be worked out from them."
NO_CHANGE_DRIVERS = (
    "The change against this area's own recent figures is not explained here, because some of those figures are "
    "small and suppressed."
)


def _change_words(change: float) -> str:
    if abs(change) < 0.0005:
        return "about the same as"
    return f"{'up' if change > 0 else 'down'} {percent(abs(change))}"


def _change_short(change: float) -> str:
    return "no change" if abs(change) < 0.0005 else signed_percent(change)


def small_reference(result: ForecastResult, rule: DisclosureRule) -> set[object]:
    """Areas whose reference periods hold a value below the threshold (suppressed where published):
    their change against the reference is not published, or the small value could be worked out."""
    explain = result.champion.trained.explain
    if explain.reference == "same_period_last_year":
        small = result.areas["last_year"] < rule.threshold
        return set(result.areas.loc[small, AREA])
    history = result.history.sort_values(PERIOD).groupby(AREA).tail(explain.reference_periods)
    return set(history.loc[history["actual"] < rule.threshold, AREA])


def published_drivers(row: pd.Series, *, suppressed: bool, small: bool) -> str:
    """What a published sentence says about drivers: nothing from which a suppressed value could be
    recovered, and never the raw reference level."""
    if suppressed:
        return NO_DRIVERS
    parts = [
        NO_CHANGE_DRIVERS if small else row.get("change_text", ""),
        row.get("typical_text", ""),
        row.get("context", ""),
    ]
    text = " ".join(str(x) for x in parts if isinstance(x, str) and x)
    return text or str(row.get("drivers_text", ""))


def _rule(result: ForecastResult) -> DisclosureRule:
    return DisclosureRule(**result.experiment.report.disclosure.model_dump())


def _finest_groups(result: ForecastResult, areas: pd.DataFrame, *, default: pd.Series) -> pd.Series:
    """The groups whose totals are published with the areas: the hierarchy's finest level when one is
    declared (secondary suppression within each keeps a total from revealing a single area)."""
    hierarchy = result.champion.trained.hierarchy
    if hierarchy is None or hierarchy.levels[-1] not in areas:
        return default
    return areas[hierarchy.levels[-1]].astype(str)


def published_table(result: ForecastResult) -> pd.DataFrame:
    """The per-area forecast as published: rounded, suppressed where small, flagged and explained."""
    rule = _rule(result)
    areas = result.areas.reset_index(drop=True)
    small = small_reference(result, rule)
    regions = areas[REGION] if REGION in areas else pd.Series("", index=areas.index)
    groups = _finest_groups(result, areas, default=regions)
    out = []
    for horizon, part in areas.groupby(HORIZON, sort=True):
        status = suppression_mask(part["forecast"], groups[part.index], rule)
        forecast, _ = protect(part["forecast"], groups=None, rule=rule, status=status)
        bounds_status = status.where(status != "", np.where(part["lower"] < rule.threshold, "primary", ""))
        lower, _ = protect(part["lower"], groups=None, rule=rule, status=bounds_status)
        upper, _ = protect(part["upper"], groups=None, rule=rule, status=status)
        last_year, last_status = protect(part["last_year"], groups=regions[part.index], rule=rule)
        hidden = (status != "") | (last_status != "")
        change = (
            part["change_vs_last_year"].map(lambda c: _change_short(c) if np.isfinite(c) else "").where(~hidden, MARKER)
        )
        flags = []
        for i, row in part.iterrows():
            f = []
            if status[i]:
                f.append("small numbers")
            if row["low_confidence"]:
                f.append("low confidence")
            if row["unusual_change"] and not hidden[i]:
                f.append("unusual change")
            flags.append("; ".join(f))
        level = f"{result.champion.trained.backtest.interval_level:.0%}"
        sentences = []
        for i, row in part.iterrows():
            if status[i] == "primary":
                text = (
                    f"{row['area_name']}: fewer than {rule.threshold} {result.experiment.report.target_label} "
                    f"forecast for {row['target_period']}."
                )
            elif status[i]:
                text = (
                    f"{row['area_name']}: the forecast for {row['target_period']} is suppressed so that a small "
                    "number in another area of the region cannot be worked out."
                )
            else:
                text = (
                    f"{row['area_name']}: about {forecast[i]} {result.experiment.report.target_label} forecast for "
                    f"{row['target_period']} ({level} interval {lower[i]} to {upper[i]})"
                    + (
                        f", {_change_words(part['change_vs_last_year'][i])} on the same period last year"
                        if change[i] not in ("", MARKER)
                        else ""
                    )
                    + "."
                )
            drivers = published_drivers(row, suppressed=bool(status[i]), small=row[AREA] in small)
            sentences.append(f"{text} {drivers}".strip())
        out.append(
            pd.DataFrame(
                {
                    AREA: part[AREA],
                    AREA_NAME: part[AREA_NAME],
                    "region": regions[part.index],
                    PERIOD: part[TARGET_PERIOD].astype(str),
                    HORIZON: horizon,
                    "forecast": forecast,
                    "lower": lower,
                    "upper": upper,
                    "same_period_last_year": last_year,
                    "change_vs_last_year": change,
                    "flags": flags,
                    "suppressed": status,
                    "drivers": sentences,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def _reconciled_headlines(result: ForecastResult, totals: pd.DataFrame) -> list[dict[str, Any]]:
    """The published totals as cards: each the sum of its areas, with its interval, or [c]."""
    level = f"{result.champion.trained.backtest.interval_level:.0%}"
    periods = []
    for period, rows in totals.groupby(PERIOD, sort=True):
        cards = [
            {
                "name": r.name,
                "value": r.forecast,
                "detail": f"{level} interval {r.lower} to {r.upper}; {r.areas:,} areas"
                if r.forecast != MARKER and r.lower
                else f"{r.areas:,} areas",
            }
            for r in rows.itertuples(index=False)
        ]
        periods.append({"label": f"{period}: {result.experiment.report.target_label} forecast", "cards": cards})
    return periods


def _totals_note(result: ForecastResult, rule: DisclosureRule, totals: pd.DataFrame | None) -> str:
    rounding = f"Totals add up the areas' forecasts and are rounded to the nearest {rule.total_rounding}."
    if totals is None:
        return f"{rounding} The areas' intervals do not add up to an interval for a total, so none is shown."
    level = f"{result.champion.trained.backtest.interval_level:.0%}"
    return (
        f"{rounding} Each total is exactly the sum of the forecasts published for its areas. Its {level} interval "
        "comes from how far the backtest's totals fell from the actual totals; the areas' intervals do not add up "
        f"to it. A total is shown as {MARKER} where it, with the areas shown, would reveal a suppressed number."
    )


def _headlines(
    result: ForecastResult, rule: DisclosureRule, totals: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    if totals is not None:
        return _reconciled_headlines(result, totals)
    areas = result.areas
    periods = []
    for period, part in areas.groupby(TARGET_PERIOD, sort=True):
        total, before = part["forecast"].sum(), part["last_year"].sum()
        cards = [
            {
                "name": "All areas",
                "value": protect_total(total, rule),
                "detail": f"{_change_short(total / before - 1)} on the same period last year" if before else "",
            }
        ]
        if REGION in part:
            for region, r in part.groupby(REGION, sort=True):
                last = r["last_year"].sum()
                cards.append(
                    {
                        "name": region,
                        "value": protect_total(r["forecast"].sum(), rule),
                        "detail": f"{_change_short(r['forecast'].sum() / last - 1)} on last year" if last else "",
                    }
                )
        periods.append({"label": f"{period}: {result.experiment.report.target_label} forecast", "cards": cards})
    return periods


def _history_values(result: ForecastResult, rule: DisclosureRule) -> pd.DataFrame:
    history = result.history.copy()
    history["shown"] = np.where(
        history["actual"] < rule.threshold, np.nan, rule.rounding * np.round(history["actual"] / rule.rounding)
    )
    return history


def _anchor(code: object) -> str:
    """The element id of an area's section: the same for every link to it, safe for any code."""
    return f"area-{slug(code)}"


def _to_number(text: str) -> float | None:
    return None if text in ("", MARKER) else float(text.replace(",", ""))


def render_report(result: ForecastResult, published: pd.DataFrame) -> str:
    rule = _rule(result)
    champion, experiment = result.champion, result.experiment
    label = experiment.report.target_label
    level = f"{champion.trained.backtest.interval_level:.0%}"
    coverage = champion.metrics.get("coverage")
    history = _history_values(result, rule)
    by_area = {code: g.sort_values(PERIOD) for code, g in history.groupby(AREA)}
    first = published[published[HORIZON] == published[HORIZON].min()]
    small = small_reference(result, rule)
    areas = []
    for row in first.itertuples(index=False):
        mine = published[published[AREA] == row.area_code]
        raw = result.areas[result.areas[AREA] == row.area_code].sort_values(HORIZON).iloc[0]
        past = by_area.get(row.area_code)
        suppressed = bool(row.suppressed) or bool((mine["suppressed"] != "").any())
        if suppressed:  # neither history nor drivers: together with published totals they could reveal it
            past = None
        actual = [None if np.isnan(v) else float(v) for v in past["shown"]] if past is not None else []
        forecasts = [_to_number(v) for v in mine["forecast"]]
        shown = not suppressed and all(v is not None for v in forecasts)
        description = (
            f"{row.area_name}: published history from {past['period'].min()} to {past['period'].max()}"
            if past is not None
            else row.area_name
        )
        description += (
            f"; forecast {', '.join(mine['forecast'])} for {', '.join(mine['period'])} with {level} "
            f"intervals {', '.join(a + ' to ' + b for a, b in zip(mine['lower'], mine['upper'], strict=True))}"
            if shown
            else "; the forecast is suppressed because the numbers are small"
        )
        drivers = (
            []
            if suppressed or row.area_code in small
            else [
                (str(raw[f"driver_{i}_label"]), float(raw[f"driver_{i}_percent"]))
                for i in range(1, 6)
                if f"driver_{i}_label" in raw and pd.notna(raw.get(f"driver_{i}_percent"))
            ]
        )
        areas.append(
            {
                "code": row.area_code,
                "anchor": _anchor(row.area_code),
                "name": row.area_name,
                "region": row.region,
                "suppressed": suppressed,
                "headline": (
                    f"{row.forecast} {label} in {row.period} ({level} interval {row.lower} to {row.upper})"
                    if not suppressed
                    else "suppressed (small numbers)"
                ),
                "history_svg": history_chart(
                    chart_id=f"h-{slug(row.area_code)}",
                    periods=[str(p) for p in past[PERIOD]] if past is not None else [],
                    actual=actual,
                    forecast_periods=list(mine[PERIOD]) if shown else [],
                    forecast=[float(v or 0.0) for v in forecasts] if shown else [],
                    lower=[_to_number(v) or 0.0 for v in mine["lower"]] if shown else [],
                    upper=[_to_number(v) or 0.0 for v in mine["upper"]] if shown else [],
                    description=description,
                ),
                "drivers_svg": drivers_chart(
                    chart_id=f"d-{slug(row.area_code)}",
                    drivers=drivers,
                    description=f"Compared with {raw.get('reference', 'the reference')}: "
                    + "; ".join(f"{name}: {signed_percent(pct / 100)}" for name, pct in drivers),
                )
                if drivers
                else "",
                "drivers_caption": f"Each driver's part of the change, in per cent of {raw.get('reference', '')}.",
                "paragraphs": re.split(r" (?=Compared with |The model treats |Drivers are not shown)", row.drivers),
            }
        )
    view = published[[AREA, HORIZON, "forecast", "same_period_last_year", "change_vs_last_year", "suppressed"]]
    view = view.rename(columns=lambda c: c if c in (AREA, HORIZON) else f"{c}_shown")
    figures = result.areas[[AREA, HORIZON, AREA_NAME, TARGET_PERIOD, "forecast", "last_year"]].assign(
        **({REGION: result.areas[REGION]} if REGION in result.areas else {})
    )
    rises = figures.assign(increase=figures["forecast"] - figures["last_year"]).merge(
        view, on=[AREA, HORIZON], suffixes=("_raw", "")
    )
    visible = (rises["suppressed_shown"] == "") & ~rises["change_vs_last_year_shown"].isin([MARKER, ""])
    rises = rises[visible].nlargest(10, "increase")
    groups = champion.audit_groups
    single = groups[~groups["grouping"].str.contains(" x ")] if len(groups) else groups
    gate_passed = champion.gate.get("verdict") == "pass"
    totals = published_totals(result, published, rule)
    context = {
        "title": experiment.report.title or f"{experiment.name.replace('_', ' ').capitalize()}: forecast by area",
        "periods": ", ".join(sorted(published[PERIOD].unique())),
        "made_on": result.made_at[:10],
        "version": champion.version,
        "candidate": champion.candidate,
        "data_note": f"data: {result.panel.source}",
        "intro": (
            f"Forecasts of {label} for {result.areas[AREA].nunique()} areas, made by the model currently "
            f"approved as champion. Each has a {level} interval and the main drivers behind it."
        ),
        "disclosure": rule.describe(),
        "total_rounding": rule.total_rounding,
        "target_label": label,
        "headline_periods": _headlines(result, rule, totals),
        "totals_note": _totals_note(result, rule, totals),
        "rises": [
            {
                "code": r[AREA],
                "anchor": _anchor(r[AREA]),
                "name": r[AREA_NAME],
                "region": r.get(REGION, ""),
                "period": str(r[TARGET_PERIOD]),
                "last_year": r["same_period_last_year_shown"],
                "forecast": r["forecast_shown"],
                "change": r["change_vs_last_year_shown"],
            }
            for _, r in rises.iterrows()
        ],
        "regions": sorted(published["region"].dropna().unique()),
        "period_options": sorted(published[PERIOD].unique()),
        "rows": [
            {
                "code": r.area_code,
                "anchor": _anchor(r.area_code),
                "name": r.area_name,
                "region": r.region,
                "period": r.period,
                "forecast": r.forecast,
                "lower": r.lower,
                "upper": r.upper,
                "change": r.change_vs_last_year,
                "flags": [f for f in r.flags.split("; ") if f],
            }
            for r in published.itertuples(index=False)
        ],
        "areas": areas,
        "level": level,
        "fairness_intro": (
            f"Before this model was allowed to publish, it was audited for fairness across groups of "
            f"areas on its backtest forecasts. Verdict: {'passed' if gate_passed else 'see the gate report'}. "
            "A bias below zero means the group's demand was under-forecast; the share under-forecast "
            "should be near one half in every group."
        ),
        "fairness": [
            {
                "grouping": g.grouping,
                "group": g.group,
                "areas": f"{int(g.areas):,}",
                "wape": percent(g.wape),
                "bias": signed_percent(g.bias),
                "under": percent(g.under_share),
                "coverage": percent(g.coverage),
            }
            for g in single.itertuples(index=False)
        ],
        "interval_text": INTERVAL_TEXT.format(
            level=level, pct=level.rstrip("%"), coverage=percent(coverage) if coverage is not None else "(not recorded)"
        ),
        "caveats": caveats(result),
        "review_banner": banner(result),  # forecast ledger (issue 16)
        "accuracy": accuracy_context(result),  # forecast ledger (issue 16)
        "about": (
            f"Model: {champion.candidate} (registered model '{champion.name}', version {champion.version}), "
            f"trained {champion.trained_at} on {champion.trained_on}. Backtest MASE "
            f"{decimal(champion.metrics.get('mase'))}, WAPE {percent(champion.metrics.get('wape'))}."
        ),
    }
    env = Environment(loader=PackageLoader("workbench.report", "templates"), autoescape=True)
    return env.get_template("report.html.j2").render(**context)


CSV_NUMBERS = ("forecast", "lower", "upper", "same_period_last_year")
TOTAL_NUMBERS = ("forecast", "lower", "upper")
TOTALS = "totals.csv"


def csv_view(published: pd.DataFrame) -> pd.DataFrame:
    """The published table for a spreadsheet: values rounded exactly as in the report, but without
    thousands separators, so they read as numbers ([c] stays text); changes keep one decimal place."""
    return published.assign(**{c: published[c].str.replace(",", "", regex=False) for c in CSV_NUMBERS})


def write_outputs(result: ForecastResult, folder: Path) -> list[str]:
    published = published_table(result)
    write_published_csv(csv_view(published), folder / "forecast.csv")
    totals = published_totals(result, published, _rule(result))
    if totals is not None:
        write_published_csv(
            totals.assign(**{c: totals[c].str.replace(",", "") for c in TOTAL_NUMBERS}), folder / TOTALS
        )
    (folder / "report.html").write_text(render_report(result, published), encoding="utf-8")
    (folder / "model_card.md").write_text(model_card(result), encoding="utf-8")
    record = transparency_record(result)
    (folder / "transparency_record.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    (folder / "transparency_record.md").write_text(transparency_markdown(record), encoding="utf-8")
    written = ["forecast.csv", "report.html", "model_card.md", "transparency_record.json", "transparency_record.md"]
    return [*written, TOTALS] if totals is not None else written
