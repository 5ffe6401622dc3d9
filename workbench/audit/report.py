"""The audit report a reviewer reads: markdown tables and a disparity chart."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from workbench.audit import AuditResult
from workbench.audit.verdict import CHECKS

RULE = (
    "Each disparity is judged on its {confidence:.0%} bootstrap interval (areas resampled): pass when the whole "
    "interval is within the allowed range, fail when the whole interval is outside it, uncertain when it "
    "straddles a bound ({uncertain}). Groups with fewer than {min_size} areas are reported but not judged."
)


def disparity_figure(result: AuditResult) -> plt.Figure:
    """For each single grouping: WAPE ratio and under-forecast share difference against the reference,
    with intervals and the allowed range."""
    single = [g for g in result.groups["grouping"].unique() if " x " not in g]
    shown = [c for c in ("wape_ratio", "under_share_difference") if c in set(result.disparities["check"])]
    fig, axes = plt.subplots(len(shown), len(single), figsize=(3.6 * len(single), 3.4 * len(shown)), squeeze=False)
    for row, check in enumerate(shown):
        for col, grouping in enumerate(single):
            ax = axes[row][col]
            rows = result.disparities[
                (result.disparities["grouping"] == grouping) & (result.disparities["check"] == check)
            ]
            y = np.arange(len(rows))
            colours = (
                rows["verdict"].map({"pass": "#2e7d32", "fail": "#c62828", "uncertain": "#ef6c00"}).fillna("#757575")
            )
            ax.errorbar(
                rows["value"],
                y,
                xerr=[rows["value"] - rows["low"], rows["high"] - rows["value"]],
                fmt="none",
                ecolor="#9e9e9e",
            )
            ax.scatter(rows["value"], y, c=colours, zorder=3)
            ax.set_yticks(y, [str(g)[:22] for g in rows["group"]], fontsize=7)
            setting = getattr(result.config.thresholds, check)
            limits = setting if isinstance(setting, (list, tuple)) else [setting]
            for limit in limits:
                ax.axvline(limit, color="#c62828", linestyle="--", linewidth=1)
            ax.axvline(1.0 if CHECKS[check][1] == "ratio" else 0.0, color="black", linewidth=0.6)
            ax.set_title(f"{grouping}: {check.replace('_', ' ')}", fontsize=9)
    fig.suptitle(
        f"{result.candidate}: disparities against the reference group (green pass, orange uncertain, "
        f"red fail, grey not judged)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def _table(frame, columns) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return lines


def audit_markdown(result: AuditResult, *, decision_summary: str | None = None) -> str:
    config = result.config
    d = result.disparities
    judged = d[d["judged"]]
    counts = judged["verdict"].value_counts().to_dict()
    lines = [
        f"# Fairness audit: {result.candidate}",
        "",
        f"**Verdict:** {'PASS' if result.passed else 'FAIL'}: {counts.get('pass', 0)} pass, "
        f"{counts.get('uncertain', 0)} uncertain, {counts.get('fail', 0)} fail; "
        f"{int((~d['judged'] & (d['verdict'] != 'reference')).sum())} not judged (small groups).",
        "",
        RULE.format(
            confidence=config.confidence,
            min_size=config.min_group_size,
            uncertain="blocking" if config.block_on_uncertain else "reported, not blocking",
        ),
        "",
        "**Thresholds:** "
        + "; ".join(f"{k} {v}" for k, v in config.thresholds.model_dump().items() if v is not None)
        + f". Reference group: {config.reference}.",
        "",
    ]
    if decision_summary:
        lines += ["## Gate", "", "```", decision_summary, "```", ""]
    if not result.passed:
        lines += ["## Failing checks", ""] + [f"- {r}" for r in result.reasons(limit=50)] + [""]
    uncertain = judged[judged["verdict"] == "uncertain"]
    if len(uncertain):
        lines += ["## Uncertain (interval straddles a bound)", ""]
        lines += [*_table(uncertain.head(30), ["grouping", "group", "check", "value", "low", "high", "bounds"]), ""]
    lines += [
        "## Groups",
        "",
        "Metrics by group with their intervals (rows are areas summed over backtest folds and horizons).",
        "",
    ]
    groups = result.groups[result.groups["grouping"].str.contains(" x ") == False]  # noqa: E712
    lines += _table(
        groups.assign(**{c: groups[c].round(3) for c in ("wape", "bias", "under_share", "coverage")}),
        ["grouping", "group", "areas", "judged", "wape", "bias", "under_share", "coverage"],
    )
    lines += ["", "Intersections of groupings are in `audit_groups.csv`; every disparity in `audit_disparities.csv`."]
    return "\n".join(lines) + "\n"
