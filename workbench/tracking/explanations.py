"""A candidate's explanations as the files of its child run."""

from __future__ import annotations

import json

import pandas as pd

from workbench.data.contract import ORIGIN, TARGET_PERIOD
from workbench.explain import CandidateExplanation

FOLDER = "explanations"


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].astype(str) for c in (ORIGIN, TARGET_PERIOD) if c in frame})


def explanation_files(explanation: CandidateExplanation) -> dict[str, pd.DataFrame | str | bytes]:
    files: dict[str, pd.DataFrame | str | bytes] = {f"{FOLDER}/drivers.csv": _as_text(explanation.drivers)}
    if (
        explanation.values is not None
        and explanation.importance is not None
        and explanation.concept_importance is not None
    ):
        files |= {
            f"{FOLDER}/shap_values.parquet": explanation.values,
            f"{FOLDER}/importance_features.csv": explanation.importance.reset_index(names="feature"),
            f"{FOLDER}/importance_concepts.csv": explanation.concept_importance.reset_index(names="concept"),
            f"{FOLDER}/stability.csv": explanation.stability,
            f"{FOLDER}/additivity.json": json.dumps(explanation.additivity, indent=2),
        }
    files |= {f"{FOLDER}/{name}": png for name, png in explanation.figures.items()}
    return files
