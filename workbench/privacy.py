"""Settings that keep what the workbench does on this machine: MLflow's usage reporting is off.

Kept apart from `workbench.tracking` (which imports MLflow, a few seconds) so that a command can set
them first, before any worker process it starts or any import of MLflow.
"""

from __future__ import annotations

import os

# MLflow sends usage events to its maintainers unless told not to; a council's store keeps to itself.
PRIVATE = {"MLFLOW_DISABLE_TELEMETRY": "true"}


def keep_private() -> None:
    """Switch MLflow's usage reporting off for this process and its children (settings already made are kept)."""
    for key, value in PRIVATE.items():
        os.environ.setdefault(key, value)
