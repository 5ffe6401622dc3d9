"""Benchmarks: how long each stage of `make train` takes (including SHAP explanations), and peak
memory, at two sizes.

- default: the experiment as written (296 districts).
- large: the same experiment on LSOA-like synthetic small areas (33,755 areas by 28 quarters),
  with fewer backtest origins so a run stays within minutes.

Each size runs in its own process so peak memory is that size's alone. Nothing is logged to
MLflow; results go to outputs/bench/ as markdown and JSON.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

SIZES = {
    "default": {},
    "large": {"small_areas": 33_755, "start": "2019Q3", "end": "2026Q2", "origins": 2},
}


def _run_size(experiment_path: Path, size: str) -> dict:
    """Time every stage for one size, in this process."""
    from rich.console import Console

    from workbench.backtest import rolling_origins, run_backtest
    from workbench.config import load_experiment
    from workbench.data.contract import PERIOD
    from workbench.data.load import load_panel
    from workbench.explain import explain_candidate
    from workbench.featurize import build_feature_table
    from workbench.fit import fit_final
    from workbench.train import check_experiment

    experiment = load_experiment(experiment_path)
    overrides = SIZES[size]
    data = experiment.data
    if overrides:
        synthetic = data.synthetic.model_copy(update={k: overrides[k] for k in ("small_areas", "start", "end")})
        data = data.model_copy(update={"synthetic": synthetic})
    origins = overrides.get("origins", experiment.backtest.origins)
    stages: dict[str, float] = {}
    start = time.perf_counter()
    panel = load_panel(data)
    stages["load and validate"] = time.perf_counter() - start
    check_experiment(experiment, panel)
    start = time.perf_counter()
    table = build_feature_table(
        panel,
        target=experiment.target,
        builders=experiment.features,
        horizons=experiment.horizons,
        reference_windows=experiment.reference_windows(),
    )
    stages["features"] = time.perf_counter() - start
    b = experiment.backtest
    folds = rolling_origins(
        first_period=panel.frame[PERIOD].min(),
        last_period=panel.frame[PERIOD].max(),
        origins=origins,
        step=b.step,
        max_horizon=max(experiment.horizons),
        min_train_periods=min(b.min_train_periods, 8),
    )
    results = {}
    for spec in experiment.models:
        start = time.perf_counter()
        results[spec.candidate] = run_backtest(
            table, [spec], folds, level=b.interval_level, min_calibration_folds=1, seed=experiment.seed
        )
        stages[f"backtest {spec.candidate}"] = time.perf_counter() - start
    bands = {c: r.bands[c] for c, r in results.items()}
    start = time.perf_counter()
    fits = fit_final(table, experiment.models, bands=bands, seed=experiment.seed)
    stages["final fit (all candidates)"] = time.perf_counter() - start
    for spec in experiment.models:
        start = time.perf_counter()
        explain_candidate(
            spec,
            table=table,
            panel=panel,
            backtest=results[spec.candidate],
            fit=fits[spec.candidate],
            config=experiment.explain,
            seed=experiment.seed,
        )
        stages[f"explain (SHAP) {spec.candidate}"] = time.perf_counter() - start
    Console(stderr=True).print(f"{size}: done")
    return {
        "size": size,
        "areas": int(panel.frame["area_code"].nunique()),
        "periods": int(panel.frame[PERIOD].nunique()),
        "rows": len(panel.frame),
        "feature_rows": len(table.frame),
        "origins": origins,
        "stages": stages,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run(experiment_path: Path, *, sizes: list[str], out: Path) -> pd.DataFrame:
    results = []
    for size in sizes:
        done = subprocess.run(
            [sys.executable, "-m", "workbench.bench", str(experiment_path), size], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"benchmark '{size}' failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    rows = []
    for r in results:
        for stage, seconds in r["stages"].items():
            rows.append(
                {
                    "size": f"{r['size']} ({r['areas']:,} areas x {r['periods']} periods, {r['origins']} origins)",
                    "stage": stage,
                    "seconds": round(seconds, 2),
                }
            )
        rows.append({"size": rows[-1]["size"], "stage": "peak memory (MB)", "seconds": round(r["peak_memory_mb"])})
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    lines = [f"# Benchmark: {experiment_path}", "", "| size | stage | seconds |", "|---|---|---|"]
    lines += [f"| {r.size} | {r.stage} | {r.seconds:g} |" for r in table.itertuples()]
    (out / "bench.md").write_text("\n".join(lines) + "\n")
    return table


if __name__ == "__main__":
    print(json.dumps(_run_size(Path(sys.argv[1]), sys.argv[2])))
