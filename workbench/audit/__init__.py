"""Fairness audit of a candidate's backtest forecasts across groups of areas.

The harm a demand forecast can do is missed need, so every judge is one-sided in the direction of
under-forecasting, compares a group only with areas of similar size, and is judged against the
status quo (a baseline's forecasts on the same rows): does the candidate open a gap the status quo
does not have? See `judges.py` for what is measured and `verdict.py` for how it is decided.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from workbench.audit.judges import JUDGES, estimate, limit_for
from workbench.audit.metrics import CONTEXT, STATS, bootstrap_sums, metric_frame, row_stats, size_bands, unit_stats
from workbench.audit.verdict import judge_all
from workbench.config import AuditConfig, AuditThresholds, Experiment
from workbench.data.contract import ACTUAL

__all__ = ["AuditResult", "audit_candidate", "groupings_for", "status_quo"]

NO_BASELINE = "a perfectly unbiased forecast (no status quo given)"
UNCERTAIN_POLICY = {
    "report": "reported, not blocking",
    "block": "blocking",
    "approve": "needs a reviewer's approval",
}


@dataclass(frozen=True)
class AuditResult:
    candidate: str
    groups: pd.DataFrame  # grouping, group, areas, method, judged, context metrics (wape, bias, ...)
    disparities: pd.DataFrame  # one row per (grouping, group, check): value, low, high, limit, verdict, ...
    config: AuditConfig
    baseline: str = NO_BASELINE
    units: pd.DataFrame | None = None  # sums per area, with its size band, for the size-band table
    labels: dict[str, pd.Series] | None = None  # single groupings: group label per area

    @property
    def failures(self) -> pd.DataFrame:
        if self.config.mode == "report":
            return self.disparities.iloc[0:0]
        blocking = {"fail", "uncertain"} if self.config.uncertain == "block" else {"fail"}
        return self.disparities[self.disparities["verdict"].isin(blocking)].sort_values("concern", ascending=False)

    @property
    def passed(self) -> bool:
        return bool(self.failures.empty)

    @property
    def needs_approval(self) -> bool:
        """True when the policy asks a reviewer to approve uncertain judgements and there are some."""
        return self.config.uncertain == "approve" and self.counts()["uncertain"] > 0

    def size_band_table(self) -> pd.DataFrame:
        """Bias of the candidate and of the status quo by group within each size band (single
        groupings), from fairlearn's MetricFrame with the size band as a control feature."""
        if self.units is None or not self.labels:
            return pd.DataFrame()
        units, parts = self.units, []
        for name, labels in self.labels.items():
            unit_labels = labels.reindex(units["area"]).set_axis(units.index)
            frame = metric_frame(units, unit_labels, control=units["size_band"]).by_group
            part = frame[["bias", "under_upper_share"]].reset_index().rename(columns={name: "group"})
            base = units.groupby([units["size_band"], unit_labels])[["base_signed", ACTUAL]].sum()
            part["status_quo_bias"] = (base["base_signed"] / base[ACTUAL]).reindex(frame.index).to_numpy()
            parts.append(part.assign(grouping=name))
        return pd.concat(parts, ignore_index=True)

    def counts(self) -> dict[str, int]:
        d = self.disparities
        verdicts = d.loc[d["judged"], "verdict"].value_counts()
        return {
            "fail": int(verdicts.get("fail", 0)),
            "uncertain": int(verdicts.get("uncertain", 0)),
            "pass": int(verdicts.get("pass", 0)),
            "not_judged": int((~d["judged"]).sum()),
        }

    def not_judged(self) -> list[str]:
        """Groups that could not be judged on any check, each with why."""
        d = self.disparities
        judged_any = d.groupby(["grouping", "group"])["judged"].transform("any")
        rows = d[~judged_any].drop_duplicates(["grouping", "group"])
        return [f"{r.grouping}={r.group} ({r.verdict})" for r in rows.itertuples()]

    def summary(self) -> str:
        """The verdict line: outcome, counts, the uncertain policy and the groups it could not judge."""
        c = self.counts()
        outcome = "report only" if self.config.mode == "report" else ("pass" if self.passed else "fail")
        line = (
            f"fairness audit {outcome}: {c['fail']} fail, {c['uncertain']} uncertain "
            f"({UNCERTAIN_POLICY[self.config.uncertain]}), {c['pass']} pass, against {self.baseline}"
        )
        missing = self.not_judged()
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            line += f"; could not judge {len(missing)} group(s): {shown}"
        return line

    def reasons(self, limit: int = 5) -> list[str]:
        rows = self.failures
        reasons = [_reason(r) for _, r in rows.head(limit).iterrows()]
        if len(rows) > limit:
            reasons.append(f"and {len(rows) - limit} more")
        if reasons:
            reasons.append(self.summary())
        return reasons

    def headline_metrics(self) -> dict[str, float]:
        """`fairness.<check>.<grouping>.worst`: the most concerning estimate in each grouping, and the
        counts of judgements (`fairness.judgements.<verdict>`)."""
        d = self.disparities
        out = {f"fairness.judgements.{k}": float(v) for k, v in self.counts().items()}
        for (grouping, check), rows in d[d["judged"]].groupby(["grouping", "check"]):
            worst = rows.loc[rows["concern"].idxmax()]
            out[f"fairness.{check}.{grouping.replace(' x ', '_x_')}.worst"] = float(worst["value"])
        return out


def _reason(r: pd.Series) -> str:
    return (
        f"{r['check']} for {r['grouping']}={r['group']} is {r['value']:.3g} (interval {r['low']:.3g} to "
        f"{r['high']:.3g}, adjusted p {r['p_adjusted']:.2g}, {r['method']}; must be {r['bounds']})"
    )


def groupings_for(static: pd.DataFrame, config: AuditConfig, default: tuple[str, ...]) -> dict[str, pd.Series]:
    """Each grouping's group label per area, including pairwise intersections when asked."""
    names = list(config.groupings or default)
    groupings = {name: static[name].astype(str).rename(name) for name in names}
    if config.intersections:
        for a, b in combinations(names, 2):
            label = f"{a} x {b}"
            groupings[label] = (static[a].astype(str) + " / " + static[b].astype(str)).rename(label)
    return groupings


def status_quo(experiment: Experiment) -> str:
    """The candidate whose forecasts the audit judges disparities against (an `Experiment`)."""
    from workbench.errors import ConfigError

    names = [m.candidate for m in experiment.models]
    chosen = experiment.audit.baseline or (experiment.baselines[0].candidate if experiment.baselines else None)
    if chosen is None or chosen not in names:
        raise ConfigError(
            f"audit.baseline: '{chosen}' is not one of the experiment's models ({', '.join(names)}); "
            "name the baseline the audit should judge against"
        )
    return chosen


def _judges(config: AuditConfig, *, has_baseline: bool) -> dict[str, float]:
    chosen = config.thresholds.model_dump()
    if config.mode == "report":  # measure every judge at the default limits, block nothing
        chosen = {k: v if v is not None else getattr(AuditThresholds(), k) for k, v in chosen.items()}
    return {
        name: limit_for(name, tol)
        for name, tol in chosen.items()
        if tol is not None and (has_baseline or not JUDGES[name].needs_baseline)
    }


def _grouping_tests(
    units: pd.DataFrame,
    labels: pd.Series,
    bands: pd.Series,
    *,
    judges: dict[str, float],
    config: AuditConfig,
    seed: int,
    method: str,
    baseline: str,
) -> pd.DataFrame:
    unit_labels = labels.reindex(units["area"]).to_numpy()
    codes, levels = pd.factorize(unit_labels, sort=True)
    n_bands = int(bands.max())
    cells = codes * n_bands + bands.reindex(units["area"]).to_numpy() - 1
    sums = bootstrap_sums(units, cells, len(levels) * n_bands, replicates=config.bootstrap, seed=seed)
    sums = {k: v.reshape(v.shape[0], len(levels), n_bands) for k, v in sums.items()}
    areas = labels.value_counts().reindex(levels).to_numpy()
    unit_counts = np.bincount(codes, minlength=len(levels))
    enough = (unit_counts >= config.min_group_size) & (areas >= 2) & (len(levels) >= 2)
    word = "areas" if method == "area bootstrap" else f"area x {config.block_length}-period blocks"
    rows = []
    for name, limit in judges.items():
        values, spread = estimate(name, sums)
        with warnings.catch_warnings():  # a group the judge cannot measure (no replicate defined) gets NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(spread[1:], axis=0, ddof=1)
        judge = JUDGES[name]
        for i, group in enumerate(levels):
            rows.append(
                {
                    "grouping": labels.name,
                    "group": group,
                    "areas": int(areas[i]),
                    "units": int(unit_counts[i]),
                    "method": f"{method} over {unit_counts[i]} {word}",
                    "check": name,
                    "value": float(values[0, i]),
                    "se": float(se[i]),
                    "limit": limit,
                    "above_is_harm": judge.above_is_harm,
                    "bounds": judge.describe.format(limit=limit, baseline=baseline),
                    "judged": bool(enough[i]),
                    "verdict": "judged"
                    if enough[i]
                    else f"cannot be judged: {areas[i]} area(s), {unit_counts[i]} {word}, "
                    f"fewer than {config.min_group_size}",
                }
            )
    return pd.DataFrame(rows)


def _context(units: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Context metrics by group (WAPE, MASE, bias, ...): ratios of sums over the group's areas."""
    sums = units.groupby(labels.reindex(units["area"]).to_numpy())[list(STATS)].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        groups = pd.DataFrame({name: sums[num] / sums[den] for name, (num, den) in CONTEXT.items()})
    groups = groups.rename_axis("group").reset_index()
    groups.insert(0, "grouping", labels.name)
    groups["areas"] = groups["group"].map(labels.value_counts()).astype(int)
    return groups


def audit_candidate(
    candidate: str,
    predictions: pd.DataFrame,
    *,
    static: pd.DataFrame,
    config: AuditConfig,
    default_groupings: tuple[str, ...],
    seed: int,
    baseline: pd.DataFrame | None = None,
) -> AuditResult:
    """Judge one candidate's backtest predictions; `baseline` is the status quo's on the same folds."""
    base_name = str(baseline["candidate"].iloc[0]) if baseline is not None and "candidate" in baseline else NO_BASELINE
    if baseline is not None and "candidate" not in baseline:
        base_name = "the status quo"
    rows = row_stats(predictions, baseline)
    bands = size_bands(rows, config.size_bands)
    static = static.loc[bands.index]
    judges = _judges(config, has_baseline=baseline is not None)
    by_area = unit_stats(rows, block_length=None)
    by_block = unit_stats(rows, block_length=config.block_length) if config.small_groups == "blocks" else None
    tests, groups = [], []
    for labels in groupings_for(static, config, default_groupings).values():
        found = _grouping_tests(
            by_area, labels, bands, judges=judges, config=config, seed=seed, method="area bootstrap", baseline=base_name
        )
        small = found["areas"] < config.min_group_size
        if by_block is not None and small.any():
            blocks = _grouping_tests(
                by_block,
                labels,
                bands,
                judges=judges,
                config=config,
                seed=seed,
                method="block bootstrap",
                baseline=base_name,
            )
            found = pd.concat([found[~small], blocks[blocks["areas"] < config.min_group_size]], ignore_index=True)
        tests.append(found)
        context = _context(by_area, labels)
        judged = found.groupby("group")["judged"].any()
        groups.append(context.assign(judged=context["group"].map(judged).fillna(False).astype(bool)))
    disparities = judge_all(
        pd.concat(tests, ignore_index=True), alpha=config.alpha, correction=config.correction, power=config.power
    )
    disparities = disparities.sort_values("concern", ascending=False, kind="stable").reset_index(drop=True)
    return AuditResult(
        candidate,
        pd.concat(groups, ignore_index=True),
        disparities,
        config,
        baseline=base_name,
        units=by_area.assign(size_band=bands.reindex(by_area["area"]).to_numpy()),
        labels={k: v for k, v in groupings_for(static, config, default_groupings).items() if " x " not in k},
    )
