"""Catalogue of model specs: baselines, GLM and LightGBM forecasters.

`MODELS` maps each model's name in an experiment YAML to its spec; registration is explicit.
The catalogue is empty in this version: models arrive with model training.
"""

MODELS: dict[str, object] = {}

__all__ = ["MODELS"]
