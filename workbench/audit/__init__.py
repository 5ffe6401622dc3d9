"""Fairness audit of a candidate's backtest forecasts across groups of areas.

For each grouping (and pairwise intersections of groupings), fairlearn's MetricFrame gives each
group's scale-free metrics; an area bootstrap gives their confidence intervals and those of the
disparities against a reference group; `verdict.py` judges the disparities on those intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from workbench.audit.metrics import METRICS, area_stats, bootstrap, metric_frame
from workbench.audit.verdict import CHECKS, bounds_for, judge
from workbench.config import AuditConfig

__all__ = ["AuditResult", "audit_candidate", "groupings_for"]


@dataclass(frozen=True)
class AuditResult:
    candidate: str
    groups: pd.DataFrame  # grouping, group, areas, judged, each metric with its interval
    disparities: pd.DataFrame  # grouping, group, reference, check, metric, value, low, high, bounds, verdict
    config: AuditConfig

    @property
    def failures(self) -> pd.DataFrame:
        blocking = {"fail", "uncertain"} if self.config.block_on_uncertain else {"fail"}
        return self.disparities[self.disparities["verdict"].isin(blocking)]

    @property
    def passed(self) -> bool:
        return self.failures.empty

    def reasons(self, limit: int = 5) -> list[str]:
        rows = self.failures.sort_values("value")
        reasons = [
            f"{r.check} for {r.grouping}={r.group} is {r.value:.3g} (interval {r.low:.3g} to {r.high:.3g}; "
            f"must be {r.bounds}; reference {r.reference})"
            for r in rows.head(limit).itertuples()
        ]
        if len(rows) > limit:
            reasons.append(f"and {len(rows) - limit} more")
        return reasons

    def headline_metrics(self) -> dict[str, float]:
        """`fairness.<metric>.<grouping>.ratio|difference`: the worst disparity in each grouping."""
        out = {}
        for (grouping, check), rows in self.disparities[self.disparities["judged"]].groupby(["grouping", "check"]):
            metric, kind = CHECKS[check]
            values = rows["value"]
            if kind == "ratio":
                worst = values.iloc[np.argmax(np.abs(np.log(values.clip(lower=1e-9))))]
            elif kind == "difference":
                worst = values.iloc[np.argmax(np.abs(values))]
            else:
                worst = values.min()
            key = grouping.replace(" x ", "_x_")
            out[f"fairness.{metric}.{key}.{'value_min' if kind == 'value' else kind}"] = float(worst)
        return out


def groupings_for(static: pd.DataFrame, config: AuditConfig, default: tuple[str, ...]) -> dict[str, pd.Series]:
    """Each grouping's group label per area, including pairwise intersections when asked."""
    names = list(config.groupings or default)
    groupings = {name: static[name].astype(str).rename(name) for name in names}
    if config.intersections:
        for a, b in combinations(names, 2):
            label = f"{a} x {b}"
            groupings[label] = (static[a].astype(str) + " / " + static[b].astype(str)).rename(label)
    return groupings


def _reference(groups: pd.DataFrame, grouping: str, config: AuditConfig) -> str:
    named = config.reference if isinstance(config.reference, dict) else {}
    if grouping in named:
        return str(named[grouping])
    judged = groups[groups["judged"]]
    if config.reference == "best" and not judged.empty:
        return str(judged.sort_values("wape")["group"].iloc[0])
    return str(groups.sort_values(["areas", "group"], ascending=[False, True])["group"].iloc[0])


def audit_candidate(
    candidate: str,
    predictions: pd.DataFrame,
    *,
    static: pd.DataFrame,
    config: AuditConfig,
    default_groupings: tuple[str, ...],
    seed: int,
) -> AuditResult:
    stats = area_stats(predictions)
    static = static.loc[stats.index]
    alpha = (1 - config.confidence) / 2
    group_rows, disparity_rows = [], []
    for grouping, labels in groupings_for(static, config, default_groupings).items():
        frame = metric_frame(stats, labels).by_group
        levels = list(frame.index)
        replicates = bootstrap(stats, labels, replicates=config.bootstrap, seed=seed)
        sizes = labels.value_counts()
        groups = frame.reset_index().rename(columns={grouping: "group", labels.name: "group"})
        groups.insert(0, "grouping", grouping)
        groups["areas"] = groups["group"].map(sizes).astype(int)
        groups["judged"] = groups["areas"] >= config.min_group_size
        for metric in METRICS:
            groups[f"{metric}_low"] = np.nanquantile(replicates[metric], alpha, axis=0)
            groups[f"{metric}_high"] = np.nanquantile(replicates[metric], 1 - alpha, axis=0)
        reference = _reference(groups, grouping, config)
        ref = levels.index(reference) if reference in levels else None
        group_rows.append(groups)
        for check, setting in config.thresholds.model_dump().items():
            if setting is None:
                continue
            metric, kind = CHECKS[check]
            bounds = bounds_for(check, setting)
            point = groups[metric].to_numpy(float)
            draws = replicates[metric]
            if kind == "ratio" and ref is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    value, samples = point / point[ref], draws / draws[:, [ref]]
            elif kind == "difference" and ref is not None:
                value, samples = point - point[ref], draws - draws[:, [ref]]
            else:
                value, samples = point, draws
            low = np.nanquantile(samples, alpha, axis=0)
            high = np.nanquantile(samples, 1 - alpha, axis=0)
            for i, group in enumerate(levels):
                judged = bool(groups["judged"].iloc[i]) and (kind == "value" or i != ref)
                disparity_rows.append(
                    {
                        "grouping": grouping,
                        "group": group,
                        "reference": reference if kind != "value" else "",
                        "areas": int(groups["areas"].iloc[i]),
                        "check": check,
                        "metric": metric,
                        "kind": kind,
                        "value": float(value[i]),
                        "low": float(low[i]),
                        "high": float(high[i]),
                        "bounds": bounds.describe(),
                        "judged": judged,
                        "verdict": judge(float(low[i]), float(high[i]), bounds)
                        if judged
                        else ("reference" if i == ref and kind != "value" else "not judged (too small)"),
                    }
                )
    return AuditResult(candidate, pd.concat(group_rows, ignore_index=True), pd.DataFrame(disparity_rows), config)
