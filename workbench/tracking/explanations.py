"""Logging a candidate's explanations into its (active) child run."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mlflow

from workbench.config import ExplainConfig
from workbench.explain import CandidateExplanation
from workbench.explain.figures import beeswarm_figure, close_all, dependence_figures, importance_figure

FOLDER = "explanations"


def _as_text(frame):
    return frame.assign(**{c: frame[c].astype(str) for c in ("origin", "target_period") if c in frame})


def log_explanation(explanation: CandidateExplanation, *, config: ExplainConfig, seed: int) -> None:
    tags = {"explain.method": explanation.method, "explain.scale": explanation.scale or "none"}
    metrics = {"explain.seconds": explanation.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _as_text(explanation.drivers).to_csv(folder / "drivers.csv", index=False)
        if explanation.values is not None:
            tags["explain.additivity"] = "passed" if explanation.additivity_passed else "failed"
            metrics["explain.additivity_max_error"] = explanation.additivity["max_abs_error"]
            metrics |= {f"explain.stability.{k}": v for k, v in explanation.stability_summary.items()}
            explanation.values.to_parquet(folder / "shap_values.parquet", index=False)
            explanation.importance.to_csv(folder / "importance_features.csv", index_label="feature")
            explanation.concept_importance.to_csv(folder / "importance_concepts.csv", index_label="concept")
            explanation.stability.to_csv(folder / "stability.csv", index=False)
            (folder / "additivity.json").write_text(json.dumps(explanation.additivity, indent=2))
        mlflow.log_artifacts(tmp, artifact_path=FOLDER)
    if explanation.values is not None:
        both = explanation.backtest_explanation
        figures = {
            "importance.png": importance_figure(explanation.concept_importance, candidate=explanation.candidate),
            "beeswarm.png": beeswarm_figure(both, candidate=explanation.candidate, rows=config.plot_rows, seed=seed),
        }
        top = list(explanation.importance.index[: config.dependence_plots])
        figures |= {
            f"dependence_{name}.png": fig
            for name, fig in dependence_figures(
                both, features=top, candidate=explanation.candidate, rows=config.plot_rows, seed=seed
            ).items()
        }
        for name, fig in figures.items():
            mlflow.log_figure(fig, f"{FOLDER}/{name}")
        close_all(figures.values())
    mlflow.set_tags(tags)
    mlflow.log_metrics(metrics)
