"""Experiment YAML -> a frozen, validated `Experiment`.

Validation is strict: an unknown key is an error that names its path and the keys that are
allowed there (the wording lives in `workbench/config_messages.py`; the `data:` section's schema
in `workbench/data/sources.py`). Nothing here reads settings or files at import time.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from features.base import FeatureBuilder
from models.base import ModelSpec
from models.combination import Combination
from workbench.config_messages import messages
from workbench.data.sources import (
    ColumnMap,
    CovariateColumn,
    DataConfig,
    FileSource,
    FrequencyName,
    OfficialSource,
    PeriodParts,
    StaticColumn,
    Strict,
    SyntheticSource,
    project_root,
)
from workbench.errors import ConfigError

_Strict = Strict

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


class BacktestConfig(_Strict):
    """Rolling-origin settings. Horizons gap+1 .. gap+horizon are forecast from each origin."""

    origins: Annotated[int, Field(ge=1)] = 8
    step: Annotated[int, Field(ge=1)] = 1
    gap: Annotated[int, Field(ge=0)] = 0
    min_train_periods: Annotated[int, Field(ge=2)] = 8
    interval_level: Annotated[float, Field(gt=0, lt=1)] = 0.8
    min_calibration_folds: Annotated[int, Field(ge=1)] = 2
    # Intervals are calibrated per band of area size x horizon (workbench/intervals.py); 1 pools all areas.
    interval_size_bands: Annotated[int, Field(ge=1, le=10)] = 5  # workbench.intervals.SIZE_BANDS
    # A size band with fewer calibration residuals uses the pooled band of its horizon.
    interval_min_band_residuals: Annotated[int, Field(ge=1)] = 50  # workbench.intervals.MIN_BAND_RESIDUALS
    # Intervals are calibrated on the residuals of the latest this-many origins known at a fold's origin
    # (and the final bands on the backtest's latest); null: every one; never fewer than min_calibration_folds
    # (unset, it is raised to that). workbench.intervals.CALIBRATION_ORIGINS
    interval_calibration_origins: Annotated[int, Field(ge=1)] | None = 3

    @model_validator(mode="before")
    @classmethod
    def _unset_window_holds_the_minimum(cls, data: object) -> object:
        """Left unset, the window is 3 origins, or min_calibration_folds where that is more."""
        if isinstance(data, dict) and "interval_calibration_origins" not in data:
            least = data.get("min_calibration_folds")
            if isinstance(least, int) and least > cls.model_fields["interval_calibration_origins"].default:
                return {**data, "interval_calibration_origins": least}
        return data

    @model_validator(mode="after")
    def _window_holds_the_minimum(self) -> BacktestConfig:
        window = self.interval_calibration_origins
        if window is not None and window < self.min_calibration_folds:
            raise ValueError(
                f"interval_calibration_origins ({window}) is below min_calibration_folds ({self.min_calibration_folds}):"
                " a fold would be calibrated on fewer origins than it must wait for; raise "
                "interval_calibration_origins or lower min_calibration_folds"
            )
        return self


class SelectionConfig(_Strict):
    """The selection rule (workbench/selection.py): a blend of metrics, each relative to the best
    baseline, with guards on RMSE and bias. `weights` defaults to 0.4 MASE + 0.3 WAPE + 0.3 RMSE."""

    metric: Literal["mase", "wape", "mae", "rmse", "winkler"] = "mase"
    margin: Annotated[float, Field(ge=0, lt=1)] = 0.0
    weights: dict[Literal["mase", "wape", "mae", "rmse", "winkler"], Annotated[float, Field(ge=0)]] | None = None
    rmse_tolerance: Annotated[float, Field(ge=0)] = 0.05
    bias_tolerance: Annotated[float, Field(ge=0)] = 0.02
    # the last origins, held back to confirm the choice made on the others (none when fewer than four
    # origins would be left to choose on)
    confirm_folds: Annotated[int, Field(ge=0)] = 1


class ExplainConfig(_Strict):
    """How much to explain. Forecast rows are always explained in full; backtest folds and plots
    are sampled so artifacts stay a reasonable size at tens of thousands of areas."""

    max_rows_per_fold: Annotated[int, Field(ge=1)] = 1000  # a seeded sample of areas, the same at every origin
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


ReconcileMethod = Literal["bottom_up", "min_trace_wls_struct", "min_trace_ols"]


def _default_reconcilers() -> list[ReconcileMethod]:
    return ["bottom_up", "min_trace_wls_struct"]


NEEDS_BOTTOM_UP = (
    "methods: include bottom_up; it is the default that another method must beat in the backtest "
    "(e.g. methods: [bottom_up, min_trace_wls_struct])"
)


class HierarchyConfig(_Strict):
    """Totals that add up (workbench/reconcile.py): the panel's group columns that nest areas into
    larger units, coarsest first (`[region]`: area -> region -> all areas), and the reconciliation
    methods the backtest chooses from."""

    levels: Annotated[list[str], Field(min_length=1)]
    methods: list[ReconcileMethod] = Field(default_factory=lambda: _default_reconcilers())
    total_label: str = "All areas"

    @model_validator(mode="after")
    def _usable(self) -> HierarchyConfig:
        repeated = sorted({level for level in self.levels if self.levels.count(level) > 1})
        if repeated:
            raise ValueError(f"levels: '{repeated[0]}' is listed twice; list each group column once, coarsest first")
        if "bottom_up" not in self.methods:
            raise ValueError(NEEDS_BOTTOM_UP)
        return self


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


def _entries(raw: Any, *, section: str, key: str, registry: dict[str, Any]) -> tuple[list[Any], list[str]]:
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


def _combination_problems(models: list[ModelSpec]) -> list[str]:
    """Each combination names only candidates it can combine, and has at least one."""
    specs = {m.candidate: m for m in models}
    problems = []
    for i, spec in enumerate(models):
        if not isinstance(spec, Combination):
            continue
        named = spec.of if isinstance(spec.of, list) else []
        for name in named:
            if name not in specs:
                problems.append(f"models[{i}].of: '{name}' is not among the candidates; known: {', '.join(specs)}")
            elif specs[name].is_baseline or isinstance(specs[name], Combination):
                problems.append(
                    f"models[{i}].of: '{name}' is a {specs[name].kind}; a combination combines models that are "
                    "neither baselines nor combinations"
                )
        if not named and not spec.pool(models):
            problems.append(f"models[{i}] ({spec.candidate}): nothing to combine; list a model that is not a baseline")
    return problems


class EngineConfig(_Strict):
    """How the fits run (see workbench/engine.py); `--jobs`, `--executor`, `--scheduler` and the
    WORKBENCH_JOBS, WORKBENCH_EXECUTOR, WORKBENCH_SCHEDULER variables override it."""

    executor: Literal["serial", "loky", "dask"] = "loky"
    jobs: Annotated[int, Field(ge=1)] | None = None  # None: every CPU this process may use
    scheduler: str | None = None  # a dask.distributed scheduler address, e.g. tcp://10.0.0.5:8786


class QuickConfig(_Strict):
    """What `train --quick` runs: an exploratory train for iterating, never judged nor registered.

    `models` names the candidates to backtest beside every baseline (default: all of them); only the
    winner is fitted again and explained, globally (its drivers' shares over the forecast rows)."""

    origins: Annotated[int, Field(ge=1)] = 2
    models: list[str] | None = None


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
    hierarchy: HierarchyConfig | None = None  # none: totals are plain sums of the areas, without intervals
    engine: EngineConfig = Field(default_factory=EngineConfig)
    quick: QuickConfig = Field(default_factory=QuickConfig)
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
        catalogues: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("features", "builder", BUILDERS),
            ("models", "model", MODELS),
        )
        for section, key, registry in catalogues:
            if section in raw:
                raw[section], found = _entries(raw[section], section=section, key=key, registry=registry)
                problems += found
        names = [m.candidate for m in raw.get("models", [])]
        problems += [
            f"models: two candidates are named '{n}'; give one of them a different 'name'"
            for n in sorted({n for n in names if names.count(n) > 1})
        ]
        problems += _combination_problems(raw.get("models", []))
        if problems:
            raise PydanticCustomError("workbench_entries", "\n".join(problems))
        return raw

    @model_validator(mode="after")
    def _quick_models_are_candidates(self) -> Experiment:
        known = [m.candidate for m in self.models]
        unknown = [name for name in self.quick.models or [] if name not in known]
        if unknown:
            raise ValueError(f"quick.models: {', '.join(unknown)} not among the candidates; known: {', '.join(known)}")
        return self

    @property
    def combinations(self) -> list[Combination]:
        """The candidates made from the others' forecasts (workbench/combination.py)."""
        return [m for m in self.models if isinstance(m, Combination)]

    @property
    def fitted_models(self) -> list[ModelSpec]:
        """The candidates fitted on the feature table: every one but the combinations."""
        return [m for m in self.models if not isinstance(m, Combination)]

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
        raise ConfigError("\n".join(messages(list(error.errors()), source, Experiment))) from None


def load_experiment(path: str | Path) -> Experiment:
    path = Path(path)
    if not path.is_file():
        near = sorted(p.name for p in path.parent.glob("*.yaml")) if path.parent.is_dir() else []
        hint = f"; experiments in {path.parent}: {', '.join(near)}" if near else ""
        raise ConfigError(f"experiment file '{path}' does not exist{hint}")
    return parse_experiment(path.read_text(), source=path, root=project_root(path))


__all__ = [
    "ColumnMap",
    "CovariateColumn",
    "DataConfig",
    "Experiment",
    "FileSource",
    "OfficialSource",
    "PeriodParts",
    "StaticColumn",
    "SyntheticSource",
    "load_experiment",
    "parse_experiment",
    "project_root",
]
