"""The forecast ledger: every published forecast, matched to its actuals when they arrive, scored,
and watched for drift. Pure logic on frames; workbench/tracking/ledger.py stores it in MLflow."""

from workbench.ledger.drift import DriftCheck, performance_check, psi, psi_table
from workbench.ledger.entries import GROUP_PREFIX, ledger_entries
from workbench.ledger.record import Monitoring
from workbench.ledger.review import ReviewDecision, decide_review
from workbench.ledger.scores import actuals_digest, group_bias, period_metrics, score_entries, wis

__all__ = [
    "GROUP_PREFIX",
    "DriftCheck",
    "Monitoring",
    "ReviewDecision",
    "actuals_digest",
    "decide_review",
    "group_bias",
    "ledger_entries",
    "performance_check",
    "period_metrics",
    "psi",
    "psi_table",
    "score_entries",
    "wis",
]
