"""Everything one training run produced, as plain objects: what the tracking module logs and the
CLI summarises."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.audit import AuditResult
from workbench.backtest import BacktestResult
from workbench.config import Experiment
from workbench.data.contract import Panel
from workbench.explain import CandidateExplanation
from workbench.featurize import FeatureTable
from workbench.fit import FinalFit
from workbench.gate import Decision
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

    @property
    def winner(self) -> FinalFit:
        return self.fits[self.selection.winner]


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
