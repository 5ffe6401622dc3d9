"""The audit report a reviewer reads: the verdict line, every judged group sorted by concern, and a
chart of the size-controlled comparison against the status quo."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.audit import UNCERTAIN_POLICY, AuditResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RULE = (
    "Each group is compared with the other areas of similar size ({bands} size bands, standardised to the "
    "group's own size mix) and judged against the same gap for {baseline} on the same rows. Judges are "
    "one-sided in the direction of missed need: a group that is over-forecast, or forecast more accurately, "
    "never fails for that. A judgement fails when the harm exceeds its limit with {correction} control of "
    "{alpha:.0%} over all {tests} judgements; it passes when the one-sided {confidence:.0%} bound is within "
    "the limit; otherwise it is uncertain ({uncertain}). Groups of fewer than {min_size} areas are judged on a "
    "block bootstrap of {block}-period blocks of each area's rows, which ignores dependence between blocks of "
    "one area, so its intervals are optimistic. 'detectable' is the smallest value the test would flag with "
    "{power:.0%} power."
)
COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "uncertain": "#ef6c00"}
SHOWN = ("bias", "under_rate")


def disparity_figure(result: AuditResult) -> Figure:
    """For each single grouping and the two missed-need judges: each group's size-controlled gap
    beyond the status quo's, with its interval and the limit."""
    import matplotlib.pyplot as plt  # only when drawn: a quick train draws no figures

    d = result.disparities
    single = [g for g in dict.fromkeys(d["grouping"]) if " x " not in g]
    shown = [c for c in SHOWN if c in set(d["check"])] or list(dict.fromkeys(d["check"]))[:1]
    fig, axes = plt.subplots(
        len(shown), max(len(single), 1), figsize=(3.8 * max(len(single), 1), 3.4 * len(shown)), squeeze=False
    )
    for row, check in enumerate(shown):
        for col, grouping in enumerate(single):
            ax = axes[row][col]
            rows = d[(d["grouping"] == grouping) & (d["check"] == check)].sort_values("group")
            y = np.arange(len(rows))
            ax.errorbar(
                rows["value"],
                y,
                xerr=[rows["value"] - rows["low"], rows["high"] - rows["value"]],
                fmt="none",
                ecolor="#9e9e9e",
            )
            ax.scatter(rows["value"], y, c=rows["verdict"].map(COLOURS).fillna("#757575").tolist(), zorder=3)
            ax.set_yticks(y, [str(g)[:22] for g in rows["group"]], fontsize=7)
            if len(rows):
                ax.axvline(float(rows["limit"].iloc[0]), color="#c62828", linestyle="--", linewidth=1)
            ax.axvline(0.0, color="black", linewidth=0.6)
            ax.set_title(f"{grouping}: {check.replace('_', ' ')} gap", fontsize=9)
    fig.suptitle(
        f"{result.candidate}: size-controlled gap beyond {result.baseline}'s (right of the dashed line is harm; "
        "green pass, orange uncertain, red fail, grey not judged)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame[columns].itertuples(index=False)]
    return lines


def audit_markdown(result: AuditResult, *, decision_summary: str | None = None) -> str:
    config = result.config
    d = result.disparities
    judged = d[d["judged"]]
    lines = [
        f"# Fairness audit: {result.candidate}",
        "",
        f"**Verdict:** {'PASS' if result.passed else 'FAIL'}: {result.summary()}.",
        "",
        RULE.format(
            bands=config.size_bands,
            baseline=result.baseline,
            correction={"holm": "Holm", "fdr": "Benjamini-Hochberg", "none": "no"}[config.correction],
            alpha=config.alpha,
            tests=len(judged),
            confidence=1 - config.alpha,
            uncertain=UNCERTAIN_POLICY[config.uncertain],
            min_size=config.min_group_size,
            block=config.block_length,
            power=config.power,
        ),
        "",
        "**Limits:** "
        + "; ".join(f"{k} {v}" for k, v in config.thresholds.model_dump().items() if v is not None)
        + ".",
        "",
    ]
    if config.mode == "report":
        lines += ["**Report-only mode** (`audit.mode: report`): nothing here blocks promotion.", ""]
    if decision_summary:
        lines += ["## Gate", "", "```", decision_summary, "```", ""]
    if not result.passed:
        lines += ["## Failing judgements", ""] + [f"- {r}" for r in result.reasons(limit=len(d))] + [""]
    lines += [
        "## Every judgement, most concerning first",
        "",
        "value, low and high are in the judge's units (gaps are fractions of the actual or of rows); "
        "p is adjusted for the number of judgements.",
        "",
        *_table(
            judged,
            ["grouping", "group", "check", "verdict", "value", "low", "high", "limit", "p_adjusted", "detectable"],
        ),
        "",
    ]
    unjudged = d[~d["judged"]].drop_duplicates(["grouping", "group"])
    if len(unjudged):
        lines += ["## Groups that could not be judged", ""]
        lines += [f"- {r.grouping}={r.group}: {r.verdict}" for r in unjudged.itertuples()] + [""]
    lines += ["## Groups (context)", "", "WAPE and MASE are context only; they are not judged.", ""]
    groups = result.groups[~result.groups["grouping"].str.contains(" x ")]
    lines += _table(
        groups, ["grouping", "group", "areas", "judged", "wape", "mase", "bias", "under_upper_share", "skill"]
    )
    bands = result.size_band_table()
    if len(bands):
        lines += ["", "## Bias within size bands (fairlearn MetricFrame, size band as control feature)", ""]
        lines += _table(bands, ["grouping", "group", "size_band", "bias", "status_quo_bias", "under_upper_share"])
    lines += ["", "Every judgement is in `audit_disparities.csv`; every group in `audit_groups.csv`."]
    return "\n".join(lines) + "\n"
