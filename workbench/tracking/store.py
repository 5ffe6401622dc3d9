"""Where runs are recorded: a SQLite database in the project unless MLFLOW_TRACKING_URI says otherwise."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = "mlruns.db"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else sqlite:///<project>/mlruns.db. Read when called, never at import."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{PROJECT_ROOT / DEFAULT_DB}"


def artifact_root(uri: str) -> str | None:
    """For a SQLite store, artifacts sit in mlartifacts/ beside the database; otherwise the server decides."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///"))
    return (Path.cwd() / database if not database.is_absolute() else database).parent.joinpath("mlartifacts").as_uri()


def git_state(root: Path = PROJECT_ROOT) -> tuple[str, bool]:
    """(commit, dirty) of the working tree; ('unknown', True) outside a git checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True
    return commit, bool(status)
