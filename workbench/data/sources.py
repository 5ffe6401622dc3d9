"""Where an experiment's panel comes from: the `data:` section of the YAML, as the data layer's own
schema (synthetic England, a file mapped onto the contract, or a folder of official tables).

Relative paths are made absolute against the project root (see `project_root`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from workbench.data.contract import (
    AREA,
    AREA_NAME,
    GSS_DISTRICT_PATTERN,
    MAX_COUNT,
    PERIOD,
    Frequency,
    MissingCovariates,
)
from workbench.data.files import DEFAULT_MAX_MB
from workbench.data.synthetic.defaults import DEFAULT_END, DEFAULT_SEED, DEFAULT_START


def _known_frequency(value: str) -> str:
    Frequency.parse(value)
    return value


FrequencyName = Annotated[str, AfterValidator(_known_frequency)]


def project_root(experiment_path: Path) -> Path:
    """The folder that relative paths in an experiment are read from.

    The nearest folder at or above the experiment that holds a `pyproject.toml` (the project);
    otherwise the parent of an `experiments/` folder; otherwise the experiment's own folder.
    It never depends on the directory the command is run from.
    """
    folder = experiment_path.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return folder.parent if folder.name == "experiments" else folder


def _from_root(value: Path | None, info: ValidationInfo) -> Path | None:
    """A relative path in the YAML, made absolute against the project root when one is known."""
    root = (info.context or {}).get("root")
    if value is None or root is None or value.is_absolute():
        return value
    return Path(root) / value


class Strict(BaseModel):
    """Unknown keys are errors; a parsed section never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SyntheticSource(Strict):
    """The built-in synthetic England panel."""

    seed: int = DEFAULT_SEED
    start: str = DEFAULT_START
    end: str = DEFAULT_END
    trend_per_year: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    small_areas: Annotated[int | None, Field(ge=296)] = None  # split districts into this many LSOA-like areas

    @field_validator("start", "end")
    @classmethod
    def _quarter(cls, value: str) -> str:
        import pandas as pd

        try:
            return str(pd.Period(value, freq="Q"))
        except Exception:
            raise ValueError(f"'{value}' is not a quarter; write it like 2026Q2") from None


class PeriodParts(Strict):
    """A period split over two columns, e.g. a year column and a quarter column."""

    year: str
    quarter: str | None = None
    month: str | None = None

    @model_validator(mode="after")
    def _one_part(self) -> PeriodParts:
        if (self.quarter is None) == (self.month is None):
            raise ValueError("give exactly one of 'quarter' or 'month' beside 'year'")
        return self


class CovariateColumn(Strict):
    column: str
    publication_lag: Annotated[int, Field(ge=0)] = 0
    count: bool = False


class StaticColumn(Strict):
    """A static attribute with its type: a category (the default) or a number."""

    column: str
    type: Literal["category", "numeric"] = "category"


class ColumnMap(Strict):
    """Which column of the file plays which part in the contract. Keys on the left of each
    mapping are the names used in the workbench; values are the file's column names."""

    area: str = AREA
    period: str | PeriodParts = PERIOD
    area_name: str | None = None
    targets: dict[str, str] | list[str]
    rates: list[str] = Field(default_factory=list)  # targets that are rates or shares: never summed across areas
    covariates: dict[str, str | CovariateColumn] = Field(default_factory=dict)
    static: dict[str, str | StaticColumn] | list[str] = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list)

    @staticmethod
    def _as_dict(value: dict[str, str] | list[str]) -> dict[str, str]:
        return dict(value) if isinstance(value, dict) else {name: name for name in value}

    @property
    def target_map(self) -> dict[str, str]:
        return self._as_dict(self.targets)

    @property
    def static_map(self) -> dict[str, str]:
        if isinstance(self.static, list):
            return {name: name for name in self.static}
        return {name: c if isinstance(c, str) else c.column for name, c in self.static.items()}

    @property
    def numeric_static(self) -> tuple[str, ...]:
        """Static attributes declared `type: numeric`; every other static attribute is a category."""
        if isinstance(self.static, list):
            return ()
        return tuple(n for n, c in self.static.items() if isinstance(c, StaticColumn) and c.type == "numeric")

    @property
    def covariate_map(self) -> dict[str, CovariateColumn]:
        return {
            name: c if isinstance(c, CovariateColumn) else CovariateColumn(column=c)
            for name, c in self.covariates.items()
        }

    @model_validator(mode="after")
    def _groups_are_static(self) -> ColumnMap:
        unknown = [g for g in self.groups if g not in self.static_map and g != AREA_NAME]
        if unknown:
            raise ValueError(f"groups {unknown} must be names under 'static' ({', '.join(self.static_map) or 'none'})")
        numeric = [g for g in self.groups if g in self.numeric_static]
        if numeric:
            raise ValueError(f"groups {numeric} are numeric static attributes; groups must be categories")
        if not self.target_map:
            raise ValueError("map at least one target")
        not_targets = [r for r in self.rates if r not in self.target_map]
        if not_targets:
            raise ValueError(f"rates {not_targets} must be names under 'targets' ({', '.join(self.target_map)})")
        return self


class FileSource(Strict):
    """Any area-by-period panel in CSV or parquet, mapped onto the contract.

    `missing_covariates` says what happens to a covariate value that is missing before the
    covariate's last published period: `refuse` (the default) names the rows; `fill_forward`
    carries each area's last published value forward (values missing at the start of a series
    are still refused); `keep` leaves them missing for the models and reports a warning. Values
    missing only because the latest periods are not yet published (the publication lag) are
    always accepted.
    """

    path: Path
    columns: ColumnMap
    frequency: FrequencyName | None = None
    area_code_pattern: str = GSS_DISTRICT_PATTERN
    na_values: list[str] = Field(default_factory=list)
    missing_covariates: MissingCovariates = "refuse"
    max_count: Annotated[float, Field(gt=0)] = MAX_COUNT  # counts above this are refused
    max_file_mb: Annotated[float, Field(gt=0)] = DEFAULT_MAX_MB  # larger files are refused before reading

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path | None:
        return _from_root(value, info)


class OfficialSource(Strict):
    """A folder of quarterly H-CLIC 'Detailed local authority level tables' (xlsx or ods), with
    optional covariate files."""

    folder: Path
    deprivation: Path | None = None  # IoD 2019 local authority summaries (csv or xlsx)
    claimant_count: Path | None = None  # monthly claimant rates by authority (csv)
    possession_claims: Path | None = None  # quarterly landlord possession claims by authority (csv)

    @field_validator("folder", "deprivation", "claimant_count", "possession_claims")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return _from_root(value, info)


class DataConfig(Strict):
    synthetic: SyntheticSource | None = None
    file: FileSource | None = None
    official: OfficialSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DataConfig:
        if sum(x is not None for x in (self.synthetic, self.file, self.official)) != 1:
            raise ValueError("give exactly one data source: 'synthetic', 'file' or 'official'")
        return self
