"""`workbench compare`: a registered version against the champion, for a reviewer.

Why was version N (not) promoted, and what changed against the champion: the gate's verdict and
reasons, the key metrics side by side, the audit's judgements that moved, and the drivers that
changed (global ranking, and the share of areas whose top driver is different). Written as Markdown,
printed, and logged to the version's training run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from workbench.numbers import decimal, percent, signed_percent
from workbench.report.safety import md_cell
from workbench.tracking.review import VersionRecord


def whole(value: float) -> str:
    """A count, such as judgements, with thousands separators."""
    return f"{value:,.0f}"


METRICS: dict[str, tuple[str, Callable[[float], str], bool | None]] = {  # metric -> (label, formatter, lower is better)
    "winner.mase": ("MASE", decimal, True),
    "winner.wape": ("WAPE", percent, True),
    "winner.bias": ("bias", signed_percent, None),
    "winner.coverage": ("interval coverage", percent, None),
    "winner.winkler": ("Winkler score", decimal, True),
    "fairness.judgements.fail": ("audit judgements failed", whole, True),
    "fairness.judgements.uncertain": ("audit judgements uncertain", whole, True),
}


@dataclass(frozen=True)
class Comparison:
    run: VersionRecord
    champion: VersionRecord
    metrics: pd.DataFrame
    audit: pd.DataFrame
    drivers: pd.DataFrame
    top_driver_changed: float  # share of areas whose top driver differs


def _metrics(run: VersionRecord, champion: VersionRecord) -> pd.DataFrame:
    rows = []
    for key, (label, fmt, lower_better) in METRICS.items():
        a, b = run.metrics.get(key), champion.metrics.get(key)
        if a is None and b is None:
            continue
        better = (
            ""
            if a is None or b is None or lower_better is None or a == b
            else ("better" if (a < b) == lower_better else "worse")
        )
        rows.append(
            {
                "metric": label,
                f"version {run.version}": fmt(a) if a is not None else "",
                f"champion (v{champion.version})": fmt(b) if b is not None else "",
                "": better,
            }
        )
    return pd.DataFrame(rows)


def _audit(run: VersionRecord, champion: VersionRecord) -> pd.DataFrame:
    keys = ["grouping", "check", "group"]
    if not set(keys) <= set(run.disparities) or not set(keys) <= set(champion.disparities):
        return pd.DataFrame()
    both = run.disparities.merge(champion.disparities, on=keys, how="outer", suffixes=("", "_champion"))
    verdict = "verdict" if "verdict" in both else None
    moved = both[both["verdict"] != both["verdict_champion"]] if verdict else both.iloc[:0]
    if moved.empty and "concern" in both:  # nothing moved: the most concerning judgements, side by side
        moved = both.nlargest(8, "concern")
    out = moved.assign(value=moved["value"].map(decimal), value_champion=moved["value_champion"].map(decimal))[
        [*keys, "value", "value_champion", *([verdict, f"{verdict}_champion"] if verdict else [])]
    ]
    return out.reset_index(drop=True)


def _drivers(run: VersionRecord, champion: VersionRecord) -> tuple[pd.DataFrame, float]:
    def ranked(v: VersionRecord) -> pd.Series:
        if not {"concept", "mean_abs_value"} <= set(v.concepts):
            return pd.Series(dtype=float)
        share = v.concepts.set_index("concept")["mean_abs_value"]
        return share / share.sum()

    a, b = ranked(run), ranked(champion)
    table = pd.DataFrame({"share": a, "share_champion": b}).fillna(0.0)
    table["rank"] = table["share"].rank(ascending=False, method="min").astype(int)
    table["rank_champion"] = table["share_champion"].rank(ascending=False, method="min").astype(int)
    table = table.sort_values("rank").reset_index(names="driver")
    common = run.top_drivers.index.intersection(champion.top_drivers.index)
    changed = float((run.top_drivers[common] != champion.top_drivers[common]).mean()) if len(common) else float("nan")
    return table, changed


def compare(run: VersionRecord, champion: VersionRecord) -> Comparison:
    drivers, changed = _drivers(run, champion)
    return Comparison(run, champion, _metrics(run, champion), _audit(run, champion), drivers, changed)


def _table(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return ["(nothing to compare)"]
    header = "| " + " | ".join(md_cell(c) for c in frame.columns) + " |"
    lines = [header, "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in frame.astype(str).itertuples(index=False)]
    return lines


def markdown(c: Comparison) -> str:
    r, ch = c.run, c.champion
    promoted = "promoted (it is the champion)" if r.verdict == "pass" else "not promoted"
    drivers = c.drivers.assign(
        share=c.drivers["share"].map(percent), share_champion=c.drivers["share_champion"].map(percent)
    )
    lines = [
        f"# {r.name}: version {r.version} against the champion (version {ch.version})",
        "",
        f"- Version {r.version} ({r.winner}, run `{r.run_name}`) was **{promoted}**; verdict `{r.verdict}`.",
        *[f"  - {md_cell(reason)}" for reason in r.reasons],
        f"- Champion: version {ch.version} ({ch.winner}, run `{ch.run_name}`).",
        "",
        "## Key metrics (backtest)",
        *_table(c.metrics),
        "",
        "## Audit judgements that differ (or, when none differ, the most concerning)",
        *_table(c.audit),
        "",
        "## Drivers",
        f"Share of areas whose top driver of the forecast changed: {percent(c.top_driver_changed)}.",
        "",
        *_table(drivers.head(12)),
        "",
    ]
    return "\n".join(lines)
