"""Experiment YAML -> a frozen, validated `Experiment`.

Validation is strict: an unknown key is an error that names its path and the keys that are
allowed there. Nothing here reads settings or files at import time.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from features.base import FeatureBuilder
from models.base import ModelSpec
from workbench.data.contract import GSS_DISTRICT_PATTERN, MAX_COUNT, Frequency, MissingCovariates
from workbench.data.files import DEFAULT_MAX_MB
from workbench.data.synthetic.england import DEFAULT_END, DEFAULT_SEED, DEFAULT_START
from workbench.errors import ConfigError


def _known_frequency(value: str) -> str:
    Frequency.parse(value)
    return value


FrequencyName = Annotated[str, AfterValidator(_known_frequency)]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
NAME_RULE = (
    "is not a valid experiment name: use letters, digits, '_' and '-', starting with a letter or digit, "
    "at most 64 characters (e.g. owed_duty_next_quarter); the name becomes a folder and a registered model name"
)


def _slug_name(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(f"'{value}' {NAME_RULE}")
    return value


ExperimentName = Annotated[str, AfterValidator(_slug_name)]


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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyntheticSource(_Strict):
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


class PeriodParts(_Strict):
    """A period split over two columns, e.g. a year column and a quarter column."""

    year: str
    quarter: str | None = None
    month: str | None = None

    @model_validator(mode="after")
    def _one_part(self) -> PeriodParts:
        if (self.quarter is None) == (self.month is None):
            raise ValueError("give exactly one of 'quarter' or 'month' beside 'year'")
        return self


class CovariateColumn(_Strict):
    column: str
    publication_lag: Annotated[int, Field(ge=0)] = 0
    count: bool = False


class StaticColumn(_Strict):
    """A static attribute with its type: a category (the default) or a number."""

    column: str
    type: Literal["category", "numeric"] = "category"


class ColumnMap(_Strict):
    """Which column of the file plays which part in the contract. Keys on the left of each
    mapping are the names used in the workbench; values are the file's column names."""

    area: str = "area_code"
    period: str | PeriodParts = "period"
    area_name: str | None = None
    targets: dict[str, str] | list[str]
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
        unknown = [g for g in self.groups if g not in self.static_map and g != "area_name"]
        if unknown:
            raise ValueError(f"groups {unknown} must be names under 'static' ({', '.join(self.static_map) or 'none'})")
        numeric = [g for g in self.groups if g in self.numeric_static]
        if numeric:
            raise ValueError(f"groups {numeric} are numeric static attributes; groups must be categories")
        if not self.target_map:
            raise ValueError("map at least one target")
        return self


class FileSource(_Strict):
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


class OfficialSource(_Strict):
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


class DataConfig(_Strict):
    synthetic: SyntheticSource | None = None
    file: FileSource | None = None
    official: OfficialSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DataConfig:
        if sum(x is not None for x in (self.synthetic, self.file, self.official)) != 1:
            raise ValueError("give exactly one data source: 'synthetic', 'file' or 'official'")
        return self


class BacktestConfig(_Strict):
    """Rolling-origin settings. Horizons gap+1 .. gap+horizon are forecast from each origin."""

    origins: Annotated[int, Field(ge=1)] = 8
    step: Annotated[int, Field(ge=1)] = 1
    gap: Annotated[int, Field(ge=0)] = 0
    min_train_periods: Annotated[int, Field(ge=2)] = 8
    interval_level: Annotated[float, Field(gt=0, lt=1)] = 0.8
    min_calibration_folds: Annotated[int, Field(ge=1)] = 2


class SelectionConfig(_Strict):
    """The selection rule (workbench/selection.py): a blend of metrics, each relative to the best
    baseline, with guards on RMSE and bias. `weights` defaults to 0.4 MASE + 0.3 WAPE + 0.3 RMSE."""

    metric: Literal["mase", "wape", "mae", "rmse", "winkler"] = "mase"
    margin: Annotated[float, Field(ge=0, lt=1)] = 0.0
    weights: dict[Literal["mase", "wape", "mae", "rmse", "winkler"], Annotated[float, Field(ge=0)]] | None = None
    rmse_tolerance: Annotated[float, Field(ge=0)] = 0.05
    bias_tolerance: Annotated[float, Field(ge=0)] = 0.02

    def rule(self):
        from workbench.selection import SelectionRule

        base = SelectionRule.around(self.metric, self.margin)
        return SelectionRule(
            metric=self.metric,
            weights=dict(self.weights) if self.weights else base.weights,
            margin=self.margin,
            rmse_tolerance=self.rmse_tolerance,
            bias_tolerance=self.bias_tolerance,
        )


class ExplainConfig(_Strict):
    """How much to explain. Forecast rows are always explained in full; backtest folds and plots
    are sampled so artifacts stay a reasonable size at tens of thousands of areas."""

    max_rows_per_fold: Annotated[int, Field(ge=1)] = 5000
    plot_rows: Annotated[int, Field(ge=10)] = 2000
    dependence_plots: Annotated[int, Field(ge=0, le=10)] = 3
    top_drivers: Annotated[int, Field(ge=1, le=5)] = 3
    max_evals: Annotated[int, Field(ge=10)] = 200  # model-agnostic explanations: evaluations per row
    additivity_tolerance: Annotated[float, Field(gt=0)] = 1e-6
    # What each forecast is compared with when its change is explained: the area's last
    # `reference_periods` periods, or the same period last year.
    reference: Literal["recent", "same_period_last_year"] = "recent"
    reference_periods: Annotated[int, Field(ge=1, le=12)] = 4


class AuditThresholds(_Strict):
    """Tolerances of the judges, each read in the direction of harm (missed need); null switches a
    judge off. Defaults are calibrated by `make audit-sim` (see the README's audit section)."""

    bias: Annotated[float, Field(ge=0, lt=1)] | None = (
        0.01  # extra under-forecast vs like-sized areas, beyond the baseline's
    )
    under_rate: Annotated[float, Field(ge=0, lt=1)] | None = (
        0.05  # extra share of actuals above the upper bound, beyond the baseline's
    )
    tail_coverage: Annotated[float, Field(gt=0, lt=1)] | None = (
        0.7  # floor on the share of actuals at or below the upper bound
    )
    skill: Annotated[float, Field(ge=0)] | None = (
        0.10  # how much larger a group's absolute error may be than the baseline's
    )


AUDIT_ALL_OFF = (
    "audit.thresholds: every judge is switched off (null), so the audit could never refuse anything; "
    "switch at least one on, or set 'audit.mode: report' to audit without gating"
)


class AuditConfig(_Strict):
    """How the fairness audit judges a candidate (see workbench/audit/__init__.py)."""

    mode: Literal["gate", "report"] = "gate"  # report: everything is measured and shown, nothing blocks
    groupings: list[str] | None = None  # default: the panel's groups
    intersections: bool = False  # also pairwise intersections (more comparisons, so less power per group)
    baseline: str | None = None  # the status quo the disparities are judged against; default the first baseline
    size_bands: Annotated[int, Field(ge=1, le=10)] = 4  # groups are compared with areas of similar size
    min_group_size: Annotated[int, Field(ge=2)] = 10  # areas (or area x period blocks for small groups)
    small_groups: Literal["blocks", "skip"] = "blocks"  # judge groups of few areas on blocks of periods
    block_length: Annotated[int, Field(ge=1)] = 2  # periods per block when judging on blocks
    bootstrap: Annotated[int, Field(ge=50)] = 200
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05  # family-wise (holm) or false-discovery (fdr) rate
    correction: Literal["holm", "fdr", "none"] = "holm"
    power: Annotated[float, Field(gt=0.5, lt=1)] = 0.8  # for the smallest detectable effect
    uncertain: Literal["report", "block", "approve"] = "report"
    thresholds: AuditThresholds = Field(default_factory=AuditThresholds)

    @model_validator(mode="after")
    def _something_to_judge(self) -> AuditConfig:
        if self.mode == "gate" and all(v is None for v in self.thresholds.model_dump().values()):
            raise ValueError(AUDIT_ALL_OFF)
        return self

    @property
    def confidence(self) -> float:
        return 1 - self.alpha

    @property
    def block_on_uncertain(self) -> bool:
        return self.uncertain == "block"

    @property
    def reference(self) -> str:
        return "the other areas of similar size"


class GateConfig(_Strict):
    baseline_margin: Annotated[float, Field(ge=0, lt=1)] = 0.0  # must beat every baseline by this fraction
    champion_tolerance: Annotated[float, Field(ge=0, lt=1)] = 0.02  # may be at most this much worse than the champion
    require_clean_tree: bool = True
    require_approval: bool = False


class DisclosureConfig(_Strict):
    threshold: Annotated[int, Field(ge=1)] = 10  # counts below this are suppressed
    rounding: Annotated[int, Field(ge=1)] = 5  # other counts rounded to this
    total_rounding: Annotated[int, Field(ge=1)] = 10  # totals rounded to this
    secondary: bool = True


class ReportConfig(_Strict):
    """What `make forecast` publishes to policy teams."""

    title: str | None = None
    target_label: str = "households"  # what the counts are, in words
    history_periods: Annotated[int, Field(ge=4)] = 12
    rise_alert: Annotated[float, Field(gt=0)] = 0.25  # flag a change against last year larger than this
    wide_interval: Annotated[float, Field(gt=0)] = (
        1.0  # flag low confidence when (upper - lower) / forecast exceeds this
    )
    disclosure: DisclosureConfig = Field(default_factory=DisclosureConfig)
    # The model card and transparency record (ATRS) fields only people can write. Any left out is
    # published as "Not provided"; `workbench validate` lists them.
    owner: str | None = None  # the team that owns the forecast
    contact: str | None = None  # an email for questions
    organisation: str | None = None
    senior_responsible_owner: str | None = None  # a role, not a person's name
    website: str | None = None  # where the public can read about the tool
    purpose: str | None = None  # what the forecasts are for, in a sentence
    benefit: str | None = None
    previous_process: str | None = None
    integration_into_process: str | None = None
    human_oversight: str | None = None  # who reviews forecasts before use
    required_training: str | None = None
    appeals_and_review: str | None = None
    phase: str | None = None  # pilot, production, retired
    legal_basis: str | None = None
    completeness_and_representativeness: str | None = None
    data_collection: str | None = None
    data_sharing_agreements: str | None = None
    data_access_and_storage: str | None = None
    impact_assessments: str | None = None  # DPIA, equality impact assessment
    ethical_considerations: str | None = None

    def missing(self) -> list[str]:
        """The transparency fields not yet provided, in the order of the record."""
        return [name for name in TRANSPARENCY_FIELDS if not (getattr(self, name) or "").strip()]


TRANSPARENCY_FIELDS = (
    "owner",
    "contact",
    "organisation",
    "senior_responsible_owner",
    "website",
    "purpose",
    "benefit",
    "previous_process",
    "integration_into_process",
    "human_oversight",
    "required_training",
    "appeals_and_review",
    "phase",
    "legal_basis",
    "completeness_and_representativeness",
    "data_collection",
    "data_sharing_agreements",
    "data_access_and_storage",
    "impact_assessments",
    "ethical_considerations",
)


def _entries(raw: Any, *, section: str, key: str, registry: dict[str, type[BaseModel]]) -> tuple[list, list[str]]:
    """Turn `[{<key>: name, ...params}]` into registered objects, with messages naming each bad entry."""
    if not isinstance(raw, list):
        return [], [f"{section}: give a list of entries, each a mapping with '{key}: <name>'"]
    known = ", ".join(registry)
    made, problems = [], []
    for i, entry in enumerate(raw):
        where = f"{section}[{i}]"
        if not isinstance(entry, dict) or key not in entry:
            problems.append(f"{where}: each entry needs '{key}: <name>'; known: {known}")
            continue
        params = {k: v for k, v in entry.items() if k != key}
        kind = registry.get(str(entry[key]))
        if kind is None:
            close = difflib.get_close_matches(str(entry[key]), list(registry), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"unknown {key} '{entry[key]}' in {where}; known: {known}{hint}")
            continue
        try:
            made.append(kind.model_validate(params))
        except ValidationError as error:
            for e in error.errors():
                field = ".".join(str(p) for p in e["loc"])
                if e["type"] == "extra_forbidden":
                    allowed = [f for f in kind.model_fields]
                    close = difflib.get_close_matches(field, allowed, n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    problems.append(
                        f"unknown key '{field}' at {where} ({entry[key]}); known: {', '.join(allowed)}{hint}"
                    )
                else:
                    at = f"{where}.{field}" if field else f"{where} ({entry[key]})"
                    problems.append(f"{at}: {e['msg'].removeprefix('Value error, ')}")
    return made, problems


class EngineConfig(_Strict):
    """How the fits run (see workbench/engine.py); `--jobs`, `--executor`, `--scheduler` and the
    WORKBENCH_JOBS, WORKBENCH_EXECUTOR, WORKBENCH_SCHEDULER variables override it."""

    executor: Literal["serial", "loky", "dask"] = "loky"
    jobs: Annotated[int, Field(ge=1)] | None = None  # None: every CPU this process may use
    scheduler: str | None = None  # a dask.distributed scheduler address, e.g. tcp://10.0.0.5:8786


class Experiment(_Strict):
    name: ExperimentName
    description: str = ""
    target: str
    data: DataConfig
    frequency: FrequencyName | None = None
    horizon: Annotated[int, Field(ge=1, le=24)] = 1
    seed: int = 0
    features: list[FeatureBuilder] = Field(default_factory=list)
    models: list[ModelSpec] = Field(default_factory=list)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    explain: ExplainConfig = Field(default_factory=ExplainConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    path: Path | None = None
    raw_text: str = Field(default="", repr=False)

    @model_validator(mode="before")
    @classmethod
    def _registered_entries(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        from features import BUILDERS
        from models import MODELS

        raw = dict(raw)
        problems: list[str] = []
        for section, key, registry in (("features", "builder", BUILDERS), ("models", "model", MODELS)):
            if section in raw:
                raw[section], found = _entries(raw[section], section=section, key=key, registry=registry)
                problems += found
        names = [m.candidate for m in raw.get("models", [])]
        problems += [
            f"models: two candidates are named '{n}'; give one of them a different 'name'"
            for n in sorted({n for n in names if names.count(n) > 1})
        ]
        if problems:
            raise PydanticCustomError("workbench_entries", "\n".join(problems))
        return raw

    @property
    def horizons(self) -> tuple[int, ...]:
        return tuple(range(self.backtest.gap + 1, self.backtest.gap + self.horizon + 1))

    @property
    def baselines(self) -> list[ModelSpec]:
        return [m for m in self.models if m.is_baseline]

    def reference_windows(self) -> set[int]:
        return {4}.union(*(m.reference_windows() for m in self.models))

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(self.raw_text.encode()).hexdigest()[:16]


# Errors --------------------------------------------------------------------------------------------

_HIDDEN = {"path", "raw_text"}  # filled in by the loader, not written in YAML


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType) and len([a for a in get_args(annotation) if a is not type(None)]) == 1:
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _walk(loc: tuple[Any, ...]) -> tuple[list[str], Any, str | None]:
    """Follow a pydantic error location through the schema.

    Returns the YAML path (without pydantic's union tags), the annotation reached, and the union
    branch (tag) the error came from, so errors from a branch the user clearly did not mean can
    be dropped.
    """
    annotation: Any = Experiment
    path: list[str] = []
    branch: str | None = None
    i = 0
    while i < len(loc):
        part = loc[i]
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            path.append(str(part))
            i += 1
            if field is None:
                return path + [str(p) for p in loc[i:]], annotation, branch
            annotation = field.annotation
        elif origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            named = [m for m in models if part == m.__name__ or str(part).endswith(f", {m.__name__}]")]
            annotation = named[0] if named else next(m for m in members if m not in models)
            branch = str(part)
            i += 1
        elif origin is dict:
            annotation = get_args(annotation)[1]
            path.append(str(part))
            i += 1
        elif origin is list:
            annotation = get_args(annotation)[0]
            path.append(str(part))
            i += 1
        else:
            path.append(str(part))
            i += 1
    return path, _unwrap(annotation), branch


def _describe(error: dict[str, Any], source: Path) -> tuple[str, str, str | None, bool]:
    """(YAML path, message, union branch, whether the branch only rejected the kind of value)."""
    loc = tuple(error["loc"])
    path, _, branch = _walk(loc)
    wrong_kind = branch is not None and loc[-1] == branch and error["type"].endswith("_type")
    dotted = ".".join(path) or "(top level)"
    if error["type"] == "extra_forbidden":
        _, parent_model, _ = _walk(loc[:-1])
        known = [
            k for k in getattr(parent_model, "model_fields", {}) if not (parent_model is Experiment and k in _HIDDEN)
        ]
        key = path[-1]
        parent = ".".join(path[:-1]) or "the top level"
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return dotted, f"{source}: unknown key '{key}' at {parent}; known: {', '.join(known)}{hint}", branch, False
    if error["type"] == "workbench_entries":
        return dotted, "\n".join(f"{source}: {line}" for line in error["msg"].splitlines()), branch, False
    if error["type"] == "missing":
        return dotted, f"{source}: missing required key '{dotted}'", branch, False
    message = error["msg"].removeprefix("Value error, ")
    return dotted, f"{source}: {dotted}: {message}", branch, wrong_kind


def _messages(errors: list[dict[str, Any]], source: Path) -> list[str]:
    described = [_describe(e, source) for e in errors]

    # When one branch of a union only says "wrong kind of value" and another branch has something
    # specific to say about the same place, the user meant the other branch.
    def superseded(path: str, branch: str | None) -> bool:
        return any(
            other_branch != branch and (p.startswith(path + ".") or (p == path and not other_kind))
            for p, _, other_branch, other_kind in described
        )

    kept = [text for path, text, branch, wrong_kind in described if not (wrong_kind and superseded(path, branch))]
    return sorted(dict.fromkeys(kept))


def parse_experiment(text: str, *, source: Path, root: Path | None = None) -> Experiment:
    """Parse YAML text into an `Experiment`, turning every schema problem into one ConfigError.

    With `root`, relative paths in the YAML are made absolute against it; without, they are kept
    as written (for an experiment read back from a run, whose paths were resolved when it ran)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: an experiment is a YAML mapping with keys name, target and data")
    try:
        return Experiment.model_validate(
            {**raw, "path": source, "raw_text": text}, context={"root": root} if root else None
        )
    except ValidationError as error:
        raise ConfigError("\n".join(_messages(error.errors(), source))) from None


def load_experiment(path: str | Path) -> Experiment:
    path = Path(path)
    if not path.is_file():
        near = sorted(p.name for p in path.parent.glob("*.yaml")) if path.parent.is_dir() else []
        hint = f"; experiments in {path.parent}: {', '.join(near)}" if near else ""
        raise ConfigError(f"experiment file '{path}' does not exist{hint}")
    return parse_experiment(path.read_text(), source=path, root=project_root(path))
