"""The panel contract: the one long format every area-by-period dataset takes in the workbench.

One row per (area, period). Column names for the keys and the standard static attributes are
fixed here and nowhere else; targets and covariates keep their own names and are declared in a
`PanelSpec`, which travels with the frame in a `Panel`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import pandas as pd

from workbench.data.findings import Finding

AREA = "area_code"
PERIOD = "period"
AREA_NAME = "area_name"
REGION = "region"
AREA_TYPE = "area_type"
URBAN_RURAL = "urban_rural"
DEPRIVATION_QUINTILE = "deprivation_quintile"
KEYS = (AREA, PERIOD)
# the feature table's own keys and target (workbench/featurize.py): one row per area, origin and horizon
ORIGIN = "origin"
HORIZON = "horizon"
TARGET_PERIOD = "target_period"
ACTUAL = "actual"
HOUSEHOLDS = "households"
"""The covariate that, when a panel has it, turns a count target into a rate per 1,000 households."""

MAX_COUNT = 1e9
"""No area-level count comes near this; a value above it is an error in the data (configurable per file)."""

MissingCovariates = Literal["refuse", "fill_forward", "keep"]
"""What to do with a covariate value missing before its last published period (see FileSource)."""

GSS_DISTRICT_PATTERN = r"^E0[6-9]\d{6}$"
"""English local authority districts: E06 unitary, E07 shire district, E08 metropolitan, E09 London."""


class Frequency(StrEnum):
    """Supported period frequencies; the value is the pandas period alias."""

    YEAR = "Y-DEC"
    QUARTER = "Q-DEC"
    MONTH = "M"

    @classmethod
    def parse(cls, text: str) -> Frequency:
        aliases = {
            "y": cls.YEAR,
            "year": cls.YEAR,
            "yearly": cls.YEAR,
            "annual": cls.YEAR,
            "a": cls.YEAR,
            "q": cls.QUARTER,
            "quarter": cls.QUARTER,
            "quarterly": cls.QUARTER,
            "m": cls.MONTH,
            "month": cls.MONTH,
            "monthly": cls.MONTH,
        }
        try:
            return aliases[text.strip().lower()]
        except KeyError:
            known = "year, quarter, month"
            raise ValueError(f"unknown frequency '{text}'; known: {known}") from None

    @property
    def label(self) -> str:
        return {Frequency.YEAR: "year", Frequency.QUARTER: "quarter", Frequency.MONTH: "month"}[self]

    @property
    def periods_per_year(self) -> int:
        return {Frequency.YEAR: 1, Frequency.QUARTER: 4, Frequency.MONTH: 12}[self]

    @property
    def dtype(self) -> pd.PeriodDtype:
        return pd.PeriodDtype(self.value)


@dataclass(frozen=True)
class Covariate:
    """A time-varying input. `publication_lag` is how many periods after the reference period
    the value is published; features may only use it from then on."""

    name: str
    publication_lag: int = 0
    count: bool = False  # counts must be non-negative


@dataclass(frozen=True)
class PanelSpec:
    """What a panel declares about its columns."""

    frequency: Frequency
    targets: tuple[str, ...]
    covariates: tuple[Covariate, ...] = ()
    static: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    area_code_pattern: str = GSS_DISTRICT_PATTERN
    numeric_static: tuple[str, ...] = ()
    max_count: float = MAX_COUNT
    missing_covariates: MissingCovariates = "refuse"
    rates: tuple[str, ...] = ()  # targets that are rates or shares, not counts: never summed across areas

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError("a panel needs at least one target")
        unknown = [r for r in self.rates if r not in self.targets]
        if unknown:
            raise ValueError(f"rates {unknown} must also be declared as targets")
        missing = [g for g in self.groups if g not in self.static]
        if missing:
            raise ValueError(f"groups {missing} must also be declared as static attributes")

    @property
    def covariate_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.covariates)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*KEYS, *self.targets, *self.covariate_names, *self.static)

    def publication_lag(self, name: str) -> int:
        for covariate in self.covariates:
            if covariate.name == name:
                return covariate.publication_lag
        raise KeyError(f"'{name}' is not a declared covariate; declared: {', '.join(self.covariate_names)}")


@dataclass(frozen=True)
class Panel:
    """A validated panel: the frame sorted by (area, period), its spec, and where it came from."""

    frame: pd.DataFrame
    spec: PanelSpec
    source: str
    findings: tuple[Finding, ...] = field(default=(), compare=False)  # warnings kept from validation
    notes: tuple[str, ...] = field(default=(), compare=False)  # what a loader merged or chose, for the record

    @property
    def areas(self) -> pd.Index:
        return pd.Index(self.frame[AREA].unique(), name=AREA)

    @property
    def periods(self) -> pd.PeriodIndex:
        return pd.period_range(self.frame[PERIOD].min(), self.frame[PERIOD].max(), freq=self.spec.frequency.value)

    def static_table(self) -> pd.DataFrame:
        """One row per area with its static attributes."""
        return self.frame[[AREA, *self.spec.static]].drop_duplicates(AREA).set_index(AREA)

    def digest(self) -> str:
        """A content hash of the frame, stable across runs, used to tag what a model was trained on."""
        hashed = pd.util.hash_pandas_object(self.frame[list(self.spec.columns)], index=False)
        return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:16]
