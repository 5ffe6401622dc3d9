"""Commands that govern the registry: review a version against the champion, approve it, promote it,
and list the versions with their verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from workbench.cli.arguments import EXPERIMENT
from workbench.cli.console import console
from workbench.cli.guard import guard
from workbench.errors import WorkbenchError

if TYPE_CHECKING:  # types only: at run time only workbench.tracking imports mlflow
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.tracking import MlflowClient

    from workbench.config import Experiment


def compare_champion(
    experiment: Path = EXPERIMENT,
    version: str = typer.Option(None, help="The version to review (default: the latest registered)"),
) -> None:
    """A registered version against the champion: verdict and reasons, metrics, audit and drivers;
    printed, and logged to the version's training run as review/compare_champion.md."""
    from rich.markdown import Markdown

    from workbench.config import load_experiment
    from workbench.review import compare, markdown
    from workbench.tracking.review import champion_version, log_comparison, read_version

    out = console()
    with guard("read"):
        name = load_experiment(experiment).name
        run = read_version(name, version)
        champion = champion_version(name)
        if champion is None:
            raise WorkbenchError(f"'{name}' has no champion yet; version {run.version} has nothing to be compared with")
        if champion == run.version:
            out.print(f"Version {run.version} of '{name}' is the champion; pass --version N to review another.")
            return
        text = markdown(compare(run, read_version(name, champion)))
        uri = log_comparison(run.run_id, text)
    out.print(Markdown(text))
    out.print(f"Logged to {uri}")


def _registry(experiment: Path) -> tuple[MlflowClient, Experiment]:
    from workbench.config import load_experiment
    from workbench.tracking.registry import client

    config = load_experiment(experiment)
    return client(), config


def promote(
    experiment: Path = EXPERIMENT,
    version: str = typer.Option(..., "--version", help="Registered model version to promote"),
) -> None:
    """Re-check the gate for a registered version and make it the champion only if every check passes."""
    from workbench.data.load import load_panel
    from workbench.record import contract_of
    from workbench.tracking.registry import GateRefused
    from workbench.tracking.registry import promote as promote_version

    with guard("promote"):
        client, config = _registry(experiment)
        name = config.name
        try:
            decision = promote_version(
                client, name=name, version=version, contract=contract_of(config, load_panel(config.data))
            )
        except GateRefused as refused:
            dirty = "clean_tree:" in str(refused)
            raise GateRefused(
                f"{refused}\n"
                + (
                    "Next: commit your changes (`git commit -am '...'`) or stash them (`git stash`), then "
                    f"`make train EXP={experiment}` for a version trained from committed code.\n"
                    if dirty
                    else ""
                )
                + f"Next: `make compare-champion EXP={experiment} VERSION={version}` shows what changed "
                f"against the champion; to record a reviewer's approval, `make approve EXP={experiment} "
                f'VERSION={version} BY="..." NOTE="..."`, then `make promote EXP={experiment} VERSION={version}` again.'
            ) from None
    console().print(escape(decision.summary()))
    console().print(f"[bold green]Version {version} of '{name}' is now the champion.[/]")


def approve(
    experiment: Path = EXPERIMENT,
    version: str = typer.Option(..., "--version", help="Registered model version"),
    by: str = typer.Option(..., "--by", help="Who approves"),
    note: str = typer.Option(..., "--note", help="Why"),
) -> None:
    """Record an approval of a version (who and why). Run `promote` afterwards to move the champion alias."""
    from workbench.tracking.registry import approve as approve_version

    with guard("approve"):
        client, config = _registry(experiment)
        name = config.name
        approval = approve_version(client, name=name, version=version, by=by, note=note)
    console().print(
        f"Version {version} of '{name}' approved by {escape(approval.by)} at {approval.at}. "
        f"Next: workbench promote {experiment} --version {version}"
    )


def status(experiment: Path = EXPERIMENT) -> None:
    """List the registered versions of an experiment's model with their gate verdicts and aliases."""
    from rich.table import Table

    from workbench.tracking.registry import versions_and_aliases

    with guard("read"):
        client, config = _registry(experiment)
        name = config.name
        versions, aliases = versions_and_aliases(client, name)
    by_version: dict[str, list[str]] = {}
    for alias, number in aliases.items():
        by_version.setdefault(str(number), []).append(alias)
    table = Table(title=f"Registered model '{name}'", title_justify="left")
    for column in ("version", "alias", "candidate", "gate", "metric", "commit", "reasons"):
        table.add_column(column)
    for v in sorted(versions, key=lambda v: int(v.version), reverse=True):
        t = v.tags
        table.add_row(
            str(v.version),
            ", ".join(by_version.get(str(v.version), [])),
            t.get("candidate", ""),
            t.get("gate.verdict", ""),
            f"{t.get('backtest.metric', '')} {t.get('backtest.value', '')}",
            t.get("git.commit", "")[:10],
            escape(t.get("gate.reasons", "")),
        )
    console().print(table if versions else f"No versions of '{name}' yet: run make train first.")
    _monitoring_line(versions, aliases)  # forecast ledger (issue 16)


def _monitoring_line(versions: list[ModelVersion], aliases: dict[str, str]) -> None:
    """One line on the champion's monitoring: flagged for review or not, and when it was checked."""
    champion = next((v for v in versions if str(v.version) == str(aliases.get("champion"))), None)
    if champion is None:
        return
    tags = champion.tags
    if "monitoring.review" not in tags:
        console().print(f"Monitoring: version {champion.version} has not been scored yet (make score).")
    elif tags["monitoring.review"] == "true":
        console().print(
            f"[bold red]Monitoring: version {champion.version} is flagged for review[/] "
            f"({escape(tags.get('monitoring.reasons', ''))}; checked {tags.get('monitoring.checked_at', '')})"
        )
    else:
        console().print(
            f"Monitoring: version {champion.version} needs no review (checked {tags.get('monitoring.checked_at', '')})."
        )
