"""Everything one training run produced, as plain objects: what the tracking module logs and the
CLI summarises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.config import Experiment
from workbench.data.contract import Panel
from workbench.gate import Decision

if TYPE_CHECKING:  # types only: a quick train never imports the audit's or the explainer's libraries
    from workbench.audit import AuditResult
    from workbench.backtest import BacktestResult
    from workbench.explain import CandidateExplanation
    from workbench.featurize import FeatureTable
    from workbench.fit import FinalFit
    from workbench.reconcile import Reconciliation
    from workbench.selection import Selection


@dataclass(frozen=True)
class TrainingRecord:
    experiment: Experiment
    panel: Panel
    table: FeatureTable
    backtest: BacktestResult
    selection: Selection
    fits: dict[str, FinalFit]
    explanations: dict[str, CandidateExplanation] = field(default_factory=dict)
    audits: dict[str, AuditResult] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    figures: dict[str, bytes] = field(default_factory=dict, repr=False)  # run-level figures as PNG bytes
    engine: str = ""  # how the tasks ran, e.g. "2 worker processes"
    warnings: tuple[str, ...] = ()  # each kind of warning the tasks raised, once, with its count
    reconciliation: Reconciliation | None = None  # totals over the experiment's hierarchy, when one is declared

    @property
    def winner(self) -> FinalFit:
        return self.fits[self.selection.winner]

    @property
    def contract(self) -> dict[str, str]:
        return contract_of(self.experiment, self.panel)


def contract_of(experiment: Experiment, panel: Panel) -> dict[str, str]:
    """What a registered model promises: one target, frequency, set of horizons and kind of area."""
    return {
        "target": experiment.target,
        "frequency": panel.spec.frequency.label,
        "horizons": ",".join(map(str, experiment.horizons)),
        "area_code_pattern": panel.spec.area_code_pattern,
    }


@dataclass(frozen=True)
class LoggedRuns:
    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    child_run_ids: dict[str, str]
    model_uris: dict[str, str]
    registered_model: str = ""
    version: str = ""
    decision: Decision | None = None
    contract: dict[str, str] = field(default_factory=dict)
