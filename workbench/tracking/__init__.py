"""The only part of the workbench that talks to MLflow. It records; it never decides."""

from __future__ import annotations

from mlflow.exceptions import MlflowException

from workbench.tracking import registry
from workbench.tracking.quiet import quiet
from workbench.tracking.registry import champion_lock
from workbench.tracking.runs import record_decision, record_exploratory, training_runs
from workbench.tracking.store import git_state, tracking_uri


def check_contract(name: str, contract: dict[str, str], *, source: str = "experiment") -> None:
    """Refuse, before anything is computed, a run whose contract differs from its registered model's."""
    with quiet():  # a new store announces its tables; that is not news
        registry.check_contract(registry.client(), name, contract, source=source)


def champion_version(name: str) -> str | None:
    """The champion's version number now, or None (to tell later whether it changed meanwhile)."""
    try:
        with quiet():
            champion = registry.champion_of(registry.client(), name)
    except MlflowException:
        return None
    return champion.version if champion else None


__all__ = [
    "champion_lock",
    "champion_version",
    "check_contract",
    "git_state",
    "record_decision",
    "record_exploratory",
    "tracking_uri",
    "training_runs",
]
