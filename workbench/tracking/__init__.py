"""The only part of the workbench that talks to MLflow."""

from workbench.tracking.runs import log_training
from workbench.tracking.store import git_state, tracking_uri

__all__ = ["git_state", "log_training", "tracking_uri"]
