"""The spine of `make train`: load -> validate -> (features -> backtest -> fit -> explain -> audit
-> gate -> log). Each step is one call into the module that owns it.

Today the flow stops after the data steps: it loads the experiment's panel, validates it against
the contract and prints a summary. The modelling steps land in later versions.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from workbench.config import load_experiment
from workbench.data.load import load_panel
from workbench.data.summary import render_summary, summarise
from workbench.errors import ConfigError


def run(experiment_path: Path, *, console: Console) -> None:
    experiment = load_experiment(experiment_path)
    console.print(f"[bold]Experiment[/] {experiment.name}: {experiment.description.strip()}")
    with console.status("Loading and validating the panel"):
        panel = load_panel(experiment.data)
    if experiment.target not in panel.spec.targets:
        raise ConfigError(f"{experiment_path}: target '{experiment.target}' is not one of the panel's targets: "
                          f"{', '.join(panel.spec.targets)}; set 'target' to one of them")
    render_summary(console, summarise(panel))
    console.print(
        "[bold yellow]Stopping here:[/] this version of the workbench loads and validates the data only; "
        "features, backtests, models and MLflow tracking are not built yet, so nothing was trained or logged."
    )
