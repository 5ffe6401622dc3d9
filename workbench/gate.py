"""The promotion gate: every check a candidate must pass to become the champion, and the recorded
decision. Pure logic: the tracking module gathers the evidence and records the outcome.

Checks, all required unless noted:
- beats_baselines: the winner is a model (not a baseline) and beats every baseline's backtest
  metric by `gate.baseline_margin`;
- not_worse_than_champion: at most `gate.champion_tolerance` worse than the current champion
  (passes when there is none yet);
- fairness_audit: no failing disparity in the audit (see workbench/audit/verdict.py);
- explanations: SHAP explanations were computed and logged and passed the additivity check;
- data_validation: the panel met the contract;
- clean_tree: the code was committed; when `gate.require_clean_tree` is false this is recorded
  but does not block;
- approval: only when `gate.require_approval`: someone has approved this version.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workbench.config import GateConfig
    from workbench.record import TrainingRecord


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    blocking: bool = True


@dataclass(frozen=True)
class Evidence:
    """What the gate judges, as recorded by `make train` (and re-read by `workbench promote`)."""

    candidate: str
    metric: str
    value: float
    is_baseline: bool
    baselines: dict[str, float]
    audit_passed: bool
    audit_reasons: list[str]
    explanations_logged: bool
    additivity_passed: bool
    data_valid: bool
    data_warnings: int
    dirty: bool
    commit: str
    config_hash: str
    data_digest: str
    data_problems: list[str] = field(default_factory=list)
    audit_summary: str = ""
    audit_needs_approval: bool = False  # the audit's uncertain judgements are for a reviewer to approve

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Champion:
    version: str
    value: float | None
    data_digest: str | None = None


@dataclass(frozen=True)
class Approval:
    by: str
    note: str
    at: str


@dataclass(frozen=True)
class Decision:
    checks: list[Check]
    evidence: Evidence
    champion: Champion | None = None
    settings: dict[str, float | bool] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks if c.blocking)

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if c.blocking and not c.passed]

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    def to_json(self) -> str:
        return json.dumps(
            {
                "verdict": self.verdict,
                "candidate": self.evidence.candidate,
                "reasons": self.reasons,
                "checks": [asdict(c) for c in self.checks],
                "evidence": self.evidence.to_dict(),
                "champion_at_decision": asdict(self.champion) if self.champion else None,
                "settings": self.settings,
            },
            indent=2,
        )

    def summary(self) -> str:
        lines = [f"Gate verdict for {self.evidence.candidate}: {'PASS' if self.passed else 'FAIL'}"]
        for check in self.checks:
            mark = "pass" if check.passed else ("FAIL" if check.blocking else "noted")
            lines.append(f"- {check.name}: {mark}: {check.detail}")
        return "\n".join(lines)


def evaluate(
    evidence: Evidence,
    *,
    champion: Champion | None,
    approval: Approval | None,
    baseline_margin: float,
    champion_tolerance: float,
    require_clean_tree: bool,
    require_approval: bool,
) -> Decision:
    m = evidence.metric.upper()
    checks = []
    if evidence.is_baseline:
        checks.append(
            Check(
                "beats_baselines",
                False,
                f"the winner {evidence.candidate} is itself a baseline: no model beat the baselines",
            )
        )
    else:
        losing = {b: v for b, v in evidence.baselines.items() if not evidence.value <= v * (1 - baseline_margin)}
        detail = ", ".join(f"{b} {v:.3f}" for b, v in evidence.baselines.items())
        checks.append(
            Check(
                "beats_baselines",
                not losing,
                f"{m} {evidence.value:.3f} against {detail} (margin {baseline_margin:.0%})"
                if not losing
                else f"{m} {evidence.value:.3f} does not beat {', '.join(losing)} by {baseline_margin:.0%}",
            )
        )
    if champion is None or champion.value is None:
        checks.append(Check("not_worse_than_champion", True, "no champion yet"))
    else:
        limit = champion.value * (1 + champion_tolerance)
        same_data = (
            "" if champion.data_digest in (None, evidence.data_digest) else " (champion was trained on other data)"
        )
        checks.append(
            Check(
                "not_worse_than_champion",
                evidence.value <= limit,
                f"{m} {evidence.value:.3f} against champion version {champion.version} "
                f"{champion.value:.3f} (tolerance {champion_tolerance:.0%}){same_data}",
            )
        )
    checks.append(
        Check(
            "fairness_audit",
            evidence.audit_passed,
            (evidence.audit_summary or "no failing disparity")
            if evidence.audit_passed
            else "; ".join(evidence.audit_reasons),
        )
    )
    explained = evidence.explanations_logged and evidence.additivity_passed
    checks.append(
        Check(
            "explanations",
            explained,
            "logged and additive"
            if explained
            else ("not logged" if not evidence.explanations_logged else "failed the additivity check"),
        )
    )
    checks.append(
        Check(
            "data_validation",
            evidence.data_valid,
            f"the panel met the contract ({evidence.data_warnings} warning(s))"
            if evidence.data_valid
            else "the panel did not meet the contract: " + "; ".join(evidence.data_problems),
        )
    )
    tree = "clean" if not evidence.dirty else "uncommitted changes present"
    checks.append(
        Check("clean_tree", not evidence.dirty, f"{tree} at commit {evidence.commit[:12]}", blocking=require_clean_tree)
    )
    if require_approval or evidence.audit_needs_approval:
        why = "" if require_approval else " (the audit's uncertain judgements need a reviewer's approval)"
        checks.append(
            Check(
                "approval",
                approval is not None,
                f"approved by {approval.by} on {approval.at}: {approval.note}"
                if approval
                else f"awaiting approval{why}: run `workbench approve` for this version, then `workbench promote`",
            )
        )
    settings: dict[str, float | bool] = {
        "baseline_margin": baseline_margin,
        "champion_tolerance": champion_tolerance,
        "require_clean_tree": require_clean_tree,
        "require_approval": require_approval,
    }
    return Decision(checks, evidence, champion, settings)


def data_problems(record: TrainingRecord) -> list[str]:
    """What makes a panel unfit to judge a model on, found again at the gate rather than assumed."""
    target = record.experiment.target
    values = record.panel.frame[target].to_numpy(dtype=float)
    observed = values[~np.isnan(values)]
    problems = [f.render() for f in record.panel.findings if f.severity == "error"]
    if not np.isfinite(observed).all():
        problems.append(f"'{target}' has {int((~np.isfinite(observed)).sum())} infinite value(s)")
    if (observed < 0).any():
        problems.append(f"'{target}' has {int((observed < 0).sum())} negative value(s)")
    if len(observed) == 0 or np.nanmax(observed) == np.nanmin(observed):
        problems.append(
            f"'{target}' is constant ({observed[0] if len(observed) else 'no values'}): nothing to forecast"
        )
    value = record.backtest.summary.set_index("candidate")[record.selection.metric]
    if not np.isfinite(value.to_numpy(dtype=float)).all():
        problems.append(f"the backtest {record.selection.metric.upper()} is not a finite number for every candidate")
    return problems


def evidence_from(record: TrainingRecord, *, commit: str, dirty: bool) -> Evidence:
    """The gate's evidence for the winner of a training run (`record` is a TrainingRecord)."""
    selection = record.selection
    summary = record.backtest.summary.set_index("candidate")[selection.metric]
    winner = selection.winner
    explanation = record.explanations.get(winner)
    audit = record.audits.get(winner)
    spec = next(m for m in record.experiment.models if m.candidate == winner)
    problems = data_problems(record)
    return Evidence(
        candidate=winner,
        metric=selection.metric,
        value=float(summary[winner]),
        is_baseline=spec.is_baseline,
        baselines={m.candidate: float(summary[m.candidate]) for m in record.experiment.baselines},
        audit_passed=bool(audit and audit.passed),
        audit_reasons=audit.reasons() if audit else ["no audit was run"],
        audit_summary=audit.summary() if audit else "",
        audit_needs_approval=bool(audit and audit.needs_approval),
        explanations_logged=explanation is not None
        and (explanation.values is not None or spec.explainer == "baseline"),
        additivity_passed=bool(explanation and explanation.additivity_passed),
        data_valid=not problems,
        data_warnings=sum(f.severity == "warning" for f in record.panel.findings),
        data_problems=problems,
        dirty=dirty,
        commit=commit,
        config_hash=record.experiment.config_hash,
        data_digest=record.panel.digest(),
    )


def decide(
    evidence: Evidence, *, champion: Champion | None, settings: GateConfig, seen_champion: str | None = None
) -> Decision:
    """The gate's decision for a new winner against the champion of this moment (`settings` is the
    experiment's GateConfig). When the champion changed while the run trained, the decision says so."""
    decision = evaluate(evidence, champion=champion, approval=None, **settings.model_dump())
    now = champion.version if champion else None
    if seen_champion != now:
        note = Check(
            "champion_changed",
            True,
            f"the champion changed while this run trained (version {seen_champion or 'none'} when it started, "
            f"version {now or 'none'} at the decision); judged against version {now or 'none'}",
            blocking=False,
        )
        decision = Decision([*decision.checks, note], decision.evidence, decision.champion, decision.settings)
    return decision
