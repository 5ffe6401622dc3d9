"""Published totals: every aggregate of the experiment's hierarchy (all areas, each region), the
exact sum of its areas' published forecasts, rounded as totals are, with its interval.

A total is withheld ([c]) when exactly one of the parts it adds up (its areas, or the totals of the
level below) is withheld, since the total minus the visible parts would be that part's value; or
when it is itself below the threshold. Secondary suppression of areas within the finest level
(`published_table`) makes the first case rare; it remains for a group with a single area, and it
carries upwards: a region withheld makes the total withheld unless a second region is.
"""

from __future__ import annotations

import pandas as pd

from workbench.data.contract import AREA, HORIZON, PERIOD, TARGET_PERIOD
from workbench.forecast_record import ForecastResult
from workbench.reconcile import TOTAL
from workbench.report.disclosure import MARKER, DisclosureRule, round_to

SINGLE = "one part suppressed"
SMALL = "small total"


def withheld_totals(
    totals: pd.DataFrame, areas: pd.DataFrame, *, levels: tuple[str, ...], total_label: str, threshold: int
) -> pd.Series:
    """Why each row of `totals` (level, node, forecast; one horizon) is withheld, or ''.

    `areas` holds one row per area with its node at each level and `withheld` (bool)."""
    areas = areas.assign(**{TOTAL: total_label})
    chain = (TOTAL, *levels)
    hidden: dict[tuple[str, str], str] = {}
    parts = areas[[*chain, "withheld"]].astype({c: str for c in chain})
    for i in range(len(chain) - 1, -1, -1):
        level = chain[i]
        if i < len(chain) - 1:  # the parts are the totals of the next finer level
            finer = chain[i + 1]
            parts = areas[[level, finer]].astype(str).drop_duplicates(finer)
            parts = parts.assign(withheld=[hidden.get((finer, n), "") != "" for n in parts[finer]])
        counts = parts["withheld"].astype(bool).groupby(parts[level]).sum()
        rows = totals[totals["level"] == level]
        for node, value in zip(rows["node"].astype(str), rows["forecast"], strict=True):
            hidden[(level, node)] = SINGLE if counts.get(node, 0) == 1 else SMALL if value < threshold else ""
    return pd.Series([hidden.get((lv, str(n)), "") for lv, n in zip(totals["level"], totals["node"], strict=True)])


def published_totals(result: ForecastResult, published: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame | None:
    """One row per aggregate and period as published; None when the experiment declares no hierarchy."""
    hierarchy = result.champion.trained.hierarchy
    if result.totals is None or hierarchy is None:
        return None
    levels = tuple(hierarchy.levels)
    shown = published.assign(withheld=published["suppressed"] != "")[[AREA, HORIZON, "withheld"]]
    areas = result.areas[[AREA, HORIZON, *levels]].merge(shown, on=[AREA, HORIZON], how="left")
    out = []
    for horizon, rows in result.totals.groupby(HORIZON, sort=True):
        rows = rows.reset_index(drop=True)
        mine = areas[areas[HORIZON] == horizon].fillna({"withheld": True})
        why = withheld_totals(rows, mine, levels=levels, total_label=hierarchy.total_label, threshold=rule.threshold)

        def text(values: pd.Series, why: pd.Series = why) -> pd.Series:
            rounded = values.map(lambda v: f"{round_to(v, rule.total_rounding):,.0f}" if pd.notna(v) else "")
            return rounded.where(why == "", MARKER)

        out.append(
            pd.DataFrame(
                {
                    "level": rows["level"],
                    "name": rows["node"],
                    PERIOD: rows[TARGET_PERIOD].astype(str),
                    HORIZON: horizon,
                    "areas": rows["areas"],
                    "forecast": text(rows["forecast"]),
                    "lower": text(rows["lower"]),
                    "upper": text(rows["upper"]),
                    "withheld": why,
                }
            )
        )
    return pd.concat(out, ignore_index=True)
