"""Catalogue of feature builders: panel -> leakage-free feature columns.

`BUILDERS` maps each builder's name in an experiment YAML to its class; registration is explicit.
The catalogue is empty in this version: builders (lags, rolling windows, seasonality, published
covariates, neighbour aggregates) arrive with model training.
"""

BUILDERS: dict[str, type] = {}

__all__ = ["BUILDERS"]
