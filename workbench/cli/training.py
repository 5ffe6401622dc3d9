"""The command that trains: an experiment end to end, in the engine's worker processes."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli.arguments import EXPERIMENT
from workbench.cli.console import console
from workbench.cli.guard import guard


def train(
    experiment: Path = EXPERIMENT,
    jobs: int = typer.Option(None, "--jobs", min=1, help="Worker processes (default: every CPU this process may use)"),
    executor: str = typer.Option(None, "--executor", help="serial, loky (default) or dask"),
    scheduler: str = typer.Option(None, "--scheduler", help="dask.distributed scheduler address, e.g. tcp://host:8786"),
    quick: bool = typer.Option(
        False,
        "--quick",
        help="Exploratory, as the experiment's quick: section says (default 2 origins, every candidate): "
        "the winner's global drivers only, no audit, never registered",
    ),
) -> None:
    """Run an experiment end to end."""
    from workbench.engine import single_threaded_environment

    single_threaded_environment()  # before any OpenMP or BLAS runtime starts in this process
    with guard("train"):
        from workbench.engine import EngineSettings, start_workers

        settings = EngineSettings(executor=executor, jobs=jobs, scheduler=scheduler)  # type: ignore[arg-type]
        start_workers(settings)
        from workbench.train import run

        run(experiment, console=console(), settings=settings, quick=quick)
