"""The Makefile builds the environment only when it is missing or stale, and lists its targets."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]


def make(*args: str) -> str:
    return subprocess.run(["make", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def test_current_environment_is_not_reinstalled() -> None:
    # The suite itself runs inside the environment make built, so it is current now.
    for target in ("train", "test", "validate"):
        plan = make("-n", target)
        assert "pip install" not in plan, plan
        assert "venv" not in plan.split("workbench")[0] or "-m venv" not in plan


def test_help_lists_every_target_with_a_line() -> None:
    text = make("help")
    targets = [
        line.split(":")[0]
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line and not line.startswith(("\t", "#", " ", ".", "$")) and ":" in line and "=" not in line
    ]
    for target in targets:
        assert f" {target} " in text.replace("\x1b[1m", " ").replace("\x1b[0m", " "), target
