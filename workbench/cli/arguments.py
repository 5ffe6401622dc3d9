"""Arguments that several commands share."""

from __future__ import annotations

import typer

EXPERIMENT = typer.Argument(..., help="Path to an experiment YAML, e.g. experiments/owed_duty_next_quarter.yaml")
