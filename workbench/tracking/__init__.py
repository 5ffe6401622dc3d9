"""The only part of the workbench that talks to MLflow. It records; it never decides.

The names the training spine uses are loaded on first use, not when the package is imported: the
recording modules bring the whole training stack (the experiment's models, scikit-learn, LightGBM),
which a process that needs one small part of the package, such as the team server's workers or
`workbench whoami`, never uses."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.tracking.registry import champion_lock
    from workbench.tracking.runs import record_decision, record_exploratory, training_runs
    from workbench.tracking.store import git_state, tracking_uri

_HOMES = {
    "champion_lock": "workbench.tracking.registry",
    "record_decision": "workbench.tracking.runs",
    "record_exploratory": "workbench.tracking.runs",
    "training_runs": "workbench.tracking.runs",
    "git_state": "workbench.tracking.store",
    "tracking_uri": "workbench.tracking.store",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)


def check_contract(name: str, contract: dict[str, str], *, source: str = "experiment") -> None:
    """Refuse, before anything is computed, a run whose contract differs from its registered model's."""
    from workbench.tracking import registry
    from workbench.tracking.quiet import quiet

    with quiet():  # a new store announces its tables; that is not news
        registry.check_contract(registry.client(), name, contract, source=source)


def champion_version(name: str) -> str | None:
    """The champion's version number now, or None (to tell later whether it changed meanwhile)."""
    from mlflow.exceptions import MlflowException

    from workbench.tracking import registry
    from workbench.tracking.quiet import quiet

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
