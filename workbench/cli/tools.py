"""Commands that measure and inspect the workbench itself: benchmarks, the peer comparison, the fairness
audit's calibration, and the MLflow UI."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from workbench.cli.console import console, fail
from workbench.cli.guard import guard
from workbench.errors import WorkbenchError


def compare_peers(
    out: Path = typer.Option(Path("outputs/compare"), help="Folder for the table and the panels"),
) -> None:
    """Compare the workbench with naive and statsforecast AutoETS on real public panels."""
    from workbench.compare import compare_peers as run

    path = run(out)
    console().print(path.read_text(), markup=False)
    console().print(f"Written to {path}")


def calibration_study(
    out: Path = typer.Option(Path("outputs/compare"), help="Folder for the table and the panels"),
) -> None:
    """How many recent origins should calibrate the intervals: coverage by size quintile per window."""
    from workbench.calibration_study import calibration_study as run

    with guard():
        path = run(out)
    console().print(path.read_text(), markup=False)
    console().print(f"Written to {path}")


def bench(
    sizes: str = typer.Option("default,annual,large", help="Comma-separated sizes: default, annual, large"),
    load: bool = typer.Option(True, help="Also time the default train beside two CPU-bound processes"),
    out: Path = typer.Option(Path("outputs/bench"), help="Folder for bench.md and bench.json"),
) -> None:
    """Time every stage of a whole train and its peak memory at three sizes, quiet and under load."""
    from workbench.bench import SIZES, run

    chosen = [s.strip() for s in sizes.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SIZES]
    if unknown:
        fail(WorkbenchError(f"unknown size(s) {unknown}; known: {', '.join(SIZES)}"))
    printer = console()
    with guard(), printer.status(f"Benchmarking {', '.join(chosen)} (each run in its own process)"):
        path = run(sizes=chosen, out=out, load=load)
    printer.print(path.read_text())
    printer.print(f"Written to {path} and {out / 'bench.json'}")


def audit_sim(
    seeds: int = typer.Option(100, help="Draws per scenario"),
    out: Path = typer.Option(Path("outputs/audit_sim"), help="Folder for audit_sim.md and audit_sim.csv"),
) -> None:
    """Calibrate the fairness audit: false refusals of a fair model and detection of planted under-forecasts."""
    from workbench.audit.simulate import run

    printer = console()
    with printer.status(f"Simulating {seeds} draws per scenario on two panels"):
        text = run(seeds=seeds, out=out)
    printer.print(text)
    printer.print(f"Written to {out / 'audit_sim.md'} and {out / 'audit_sim.csv'}")


def ui(port: int = typer.Option(5000, help="Port on localhost")) -> None:
    """Start the MLflow UI on localhost against the workbench's tracking store."""
    import subprocess

    from workbench.tracking.store import artifact_root, tracking_uri

    uri = tracking_uri()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    root = artifact_root(uri)
    if root:
        command += ["--default-artifact-root", root]
    console().print(
        f"MLflow UI for {uri} at http://127.0.0.1:{port}/#/experiments?workflowType=machine_learning "
        "(the classic machine-learning view; Ctrl+C to stop)"
    )
    raise typer.Exit(subprocess.call(command))
