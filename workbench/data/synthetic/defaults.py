"""The synthetic England panel's default seed and span (what an empty `synthetic: {}` means)."""

DEFAULT_SEED = 20180401
DEFAULT_START = "2018Q2"
DEFAULT_END = "2026Q2"
