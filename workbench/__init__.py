"""Shared machinery of the predictive-services modelling workbench."""

__version__ = "0.1.0"
