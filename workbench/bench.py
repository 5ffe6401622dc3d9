"""`make bench`: what a user feels, stage by stage, at three sizes, quiet and beside other work.

Sizes (each a whole `make train`: backtest of every candidate, final fits, SHAP, audit, MLflow
logging and the registry, into a throwaway store):
- default: the experiment as written (296 districts, quarterly);
- annual: a real panel, US county murders (2,197 counties x 17 years; `make real-data`);
- large: synthetic England split into 33,755 small areas x 28 quarters.

Also measured in the same invocation:
- the default train beside two CPU-bound processes, as a ratio to the quiet run per stage;
- the backtest in one process against this process and a pool sharing the tasks, as many processes as
  available CPUs (at least two; the speed-up);
- statsforecast's AutoETS, fitted per series on the annual panel's backtest splits.

Each measurement runs in its own process; peak memory is the largest resident set of that
process and its workers together, sampled every 0.2 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.data.contract import AREA, PERIOD
from workbench.engine import JOBS_VARIABLE, SINGLE_THREADED, available_cpus

EXPERIMENTS = {
    "default": Path("experiments/owed_duty_next_quarter.yaml"),
    "annual": Path("experiments/us_county_murders.yaml"),
    "large": Path("experiments/owed_duty_next_quarter.yaml"),
}
LARGE = {"small_areas": 33_755, "start": "2019Q3", "end": "2026Q2"}  # 28 quarters
SIZES = tuple(EXPERIMENTS)
BUSY = "while True: pass"


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and every process below it, in MB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry.name)] = int(line.split()[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return sum(rss.get(p, 0) for p in tree) / 1024


@contextmanager
def _peak_memory(pid: int) -> Iterator[list[float]]:
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(pid))
            done.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def _one(size: str, out: Path) -> None:
    """Run one size's train in this process and write its stage times to `out` (JSON)."""
    from rich.console import Console

    from workbench.engine import EngineSettings, start_workers

    start_workers(EngineSettings())  # as `workbench train` does, before importing the train
    from workbench.train import run

    path = EXPERIMENTS[size]
    if size == "large":
        path = _large_experiment(path, out.with_suffix(".yaml"))
    console = Console(file=open(os.devnull, "w"))  # noqa: SIM115 - the bench reads timings, not the table
    start = time.perf_counter()
    with _peak_memory(os.getpid()) as peak:
        record = run(path, console=console, settings=EngineSettings.resolve())
    timings = dict(record.timings) | {"total": time.perf_counter() - start}
    out.write_text(json.dumps({"size": size, "seconds": timings, "peak_mb": peak[0], "engine": record.engine}))


def _large_experiment(path: Path, to: Path) -> Path:
    """The default experiment on 33,755 small areas, with two origins and sampled explanations."""
    import yaml

    raw = yaml.safe_load(path.read_text())
    raw["name"] = "bench_large"
    raw["data"] = {"synthetic": {**(raw["data"].get("synthetic") or {}), **LARGE}}
    raw["backtest"] = {**raw.get("backtest", {}), "origins": 2}
    raw["explain"] = {**raw.get("explain", {}), "plot_rows": 1000}
    raw["gate"] = {**raw.get("gate", {}), "require_clean_tree": False}
    to.write_text(yaml.safe_dump(raw, sort_keys=False))
    return to


def _measure(size: str, folder: Path, *, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = folder / f"{size}-{time.monotonic_ns()}.json"
    store = folder / f"store-{out.stem}"
    store.mkdir()
    environment = {
        **os.environ,
        **SINGLE_THREADED,  # as `workbench train` sets for its own process before anything starts
        "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlruns.db'}",
        **(env or {}),
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench.bench", size, str(out)], env=environment, capture_output=True, text=True
    )
    command = time.perf_counter() - start  # what the user waits for: start-up and imports included
    if done.returncode != 0:
        raise RuntimeError(f"bench size {size} failed:\n{done.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(out.read_text())
    measured["seconds"]["whole command"] = command
    return measured


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per stage, the median of repeated runs (a short stage's time on a shared machine is noisy)."""
    seconds = pd.DataFrame([r["seconds"] for r in runs]).median()
    return {**runs[0], "seconds": seconds.to_dict(), "peak_mb": max(r["peak_mb"] for r in runs), "runs": len(runs)}


def _alternating(
    first: Callable[[], dict[str, Any]], second: Callable[[], dict[str, Any]], repeats: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Medians of `repeats` runs of each, taken in turn, so a drift in the machine's load hits both alike."""
    a, b = [], []
    for _ in range(repeats):
        a.append(first())
        b.append(second())
    return _median(a), _median(b)


@contextmanager
def _busy(processes: int) -> Iterator[None]:
    """CPU-bound competitors, as a second user's work would be."""
    started = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(processes)]
    try:
        time.sleep(1)
        yield
    finally:
        for process in started:
            process.kill()
            process.wait()


def _ets_seconds() -> float:
    """statsforecast AutoETS per series on the annual panel's backtest origins (what a user would pick)."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    from workbench.config import load_experiment
    from workbench.data.load import load_panel

    experiment = load_experiment(EXPERIMENTS["annual"])
    panel = load_panel(experiment.data)
    frame = panel.frame.rename(columns={AREA: "unique_id", experiment.target: "y"})
    frame["ds"] = frame[PERIOD].dt.year
    last = frame["ds"].max()
    start = time.perf_counter()
    for origin in range(last - experiment.backtest.origins, last):
        train = frame.loc[frame["ds"] <= origin, ["unique_id", "ds", "y"]]
        StatsForecast(models=[AutoETS(season_length=1)], freq=1, n_jobs=1).forecast(df=train, h=1)
    return time.perf_counter() - start


def _loaded(size: str, folder: Path) -> dict[str, Any]:
    with _busy(2):
        return _measure(size, folder)


def run(
    *, sizes: list[str], out: Path, load: bool = True, speedup: bool = True, ets: bool = True, repeats: int = 3
) -> Path:
    """Every measurement; writes bench.md and bench.json to `out` and returns the markdown's path. The
    quiet and loaded default runs, and the one-process and pooled ones, are medians of `repeats` runs each."""
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for size in sizes:
            if size == "default" and load:
                results[size], results["default, 2 busy processes"] = _alternating(
                    lambda: _measure("default", folder), lambda: _loaded("default", folder), repeats
                )
            else:
                results[size] = _measure(size, folder)
        if speedup and "default" in sizes:
            workers = str(max(2, available_cpus()))
            results["default, 1 process"], results[f"default, {workers} processes"] = _alternating(
                lambda: _measure("default", folder, env={JOBS_VARIABLE: "1"}),
                lambda: _measure("default", folder, env={JOBS_VARIABLE: workers}),
                repeats,
            )
    extra = {"autoets_annual_s": _ets_seconds()} if ets and "annual" in sizes else {}
    (out / "bench.json").write_text(json.dumps({"results": results, **extra}, indent=2))
    path = out / "bench.md"
    path.write_text(markdown(results, extra))
    return path


def markdown(results: dict[str, dict[str, Any]], extra: dict[str, float]) -> str:
    stages = list(dict.fromkeys(k for r in results.values() for k in r["seconds"]))
    table = pd.DataFrame({name: r["seconds"] for name, r in results.items()}).reindex(stages)
    lines = [
        f"# Benchmark ({available_cpus()} usable CPUs)",
        "",
        "Seconds per stage of a whole `make train`, and peak memory of the process and its workers. `total` is",
        "the train itself; `whole command` adds Python's start-up and imports, as a user waits for them. The",
        "default columns are medians of repeated runs (the runs row says how many).",
        "",
        "| stage | " + " | ".join(results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(_seconds(table.loc[stage, c]) for c in results) + " |")
    lines.append("| peak memory (MB) | " + " | ".join(f"{r['peak_mb']:,.0f}" for r in results.values()) + " |")
    lines.append("| engine | " + " | ".join(r.get("engine", "") for r in results.values()) + " |")
    lines.append("| runs | " + " | ".join(str(r.get("runs", 1)) for r in results.values()) + " |")
    quiet, loaded = results.get("default"), results.get("default, 2 busy processes")
    if quiet and loaded:
        lines += ["", "Beside two CPU-bound processes, as a ratio to the quiet default run:", ""]
        lines += ["| stage | ratio |", "|---|---:|"]
        for stage, seconds in loaded["seconds"].items():
            base = quiet["seconds"].get(stage) or float("nan")
            lines.append(f"| {stage} | {seconds / base:.2f} |" if base > 0.05 else f"| {stage} | (under 0.05 s) |")
    single = results.get("default, 1 process")
    pooled = next((r for name, r in results.items() if re.fullmatch(r"default, \d+ processes", name)), None)
    if single and pooled:
        ratio = single["seconds"]["backtest"] / pooled["seconds"]["backtest"]
        lines += ["", f"Backtest speed-up from one process to {pooled.get('engine')}: {ratio:.2f}x."]
    if "autoets_annual_s" in extra:
        lines += [
            "",
            f"statsforecast AutoETS per series on the annual panel's origins: {extra['autoets_annual_s']:.1f} s.",
        ]
    return "\n".join(lines) + "\n"


def _seconds(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.1f}"


if __name__ == "__main__":
    from workbench.process import end

    _one(sys.argv[1], Path(sys.argv[2]))
    end(0)  # as the `workbench` command ends
