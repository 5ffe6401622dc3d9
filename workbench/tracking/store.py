"""Where runs are recorded: a SQLite database in the project unless MLFLOW_TRACKING_URI or the project's
`tracking-uri` setting names another store, such as the team server."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = "mlruns.db"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else the project's `tracking-uri` setting (a team server's address, say),
    else sqlite:///<project>/mlruns.db. Read when called, never at import."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI")
        or project_setting("tracking-uri")
        or f"sqlite:///{PROJECT_ROOT / DEFAULT_DB}"
    )


def project_setting(key: str, pyproject: Path = PROJECT_ROOT / "pyproject.toml") -> str | None:
    """A value from pyproject.toml's [tool.workbench] table, e.g. tracking-uri = "http://127.0.0.1:5000"."""
    try:
        value = tomllib.loads(pyproject.read_text()).get("tool", {}).get("workbench", {}).get(key)
        return None if value is None else str(value)
    except (OSError, tomllib.TOMLDecodeError):
        return None


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
