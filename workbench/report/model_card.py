"""The model card and a UK Algorithmic Transparency Recording Standard record, generated from the
run, the registry and the experiment's `report:` section. Fields only people can write come from
`report:`; any left out is published as "Not provided", never as placeholder text. Numbers are
formatted for reading (see `workbench.numbers`)."""

from __future__ import annotations

from typing import Any

from models.combination import CombinationForecaster
from workbench.forecast_record import ForecastResult
from workbench.numbers import count, decimal, percent, signed_percent
from workbench.report.accuracy import monitoring_lines, monitoring_record
from workbench.report.caveats import caveats
from workbench.report.safety import md_cell

NOT_PROVIDED = "Not provided"


def provided(result: ForecastResult, field: str) -> str:
    """A transparency field from the experiment's `report:` section, or "Not provided"."""
    value = getattr(result.experiment.report, field, None)
    return value.strip() if isinstance(value, str) and value.strip() else NOT_PROVIDED


def method_of(result: ForecastResult) -> str:
    """The champion's candidate in words: its name, and for a combination what it combines."""
    c = result.champion
    kind = next(s.kind for s in c.trained.models if s.candidate == c.candidate)
    forecaster = c.forecaster if kind == "combination" else None
    combined = f": {forecaster.describe()}" if isinstance(forecaster, CombinationForecaster) else ""
    return f"`{c.candidate}` ({kind}{combined})"


def _performance(metrics: dict[str, float]) -> dict[str, str]:
    shown = {"mase": decimal, "wape": percent, "bias": signed_percent, "coverage": percent}
    return {k: f(metrics[k]) for k, f in shown.items() if k in metrics}


def _coverage_by_size(metrics: dict[str, float], level: float) -> list[str]:
    """One line: interval coverage in each quintile of area size, when the run recorded it."""
    quintiles = sorted(
        (k for k in metrics if k.startswith("coverage_q")), key=lambda k: int(k.removeprefix("coverage_q"))
    )
    if not quintiles:
        return []
    shares = " / ".join(percent(metrics[k]) for k in quintiles)
    wis = f"; weighted interval score {decimal(metrics['wis'])}" if "wis" in metrics else ""
    return [
        f"- Coverage by quintile of area size (recent level at the origin; Q1 smallest to Q{len(quintiles)} "
        f"largest), nominal {level:.0%}: {shares}{wis}."
    ]


def _groups_table(result: ForecastResult) -> list[str]:
    groups = result.champion.audit_groups
    single = groups[~groups["grouping"].str.contains(" x ")]
    lines = [
        "| grouping | group | areas | WAPE | bias | share under-forecast | coverage |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in single.itertuples(index=False):
        lines.append(
            f"| {md_cell(g.grouping)} | {md_cell(g.group)} | {count(g.areas)} | {percent(g.wape)} | "
            f"{signed_percent(g.bias)} | {percent(g.under_share)} | {percent(g.coverage)} |"
        )
    return lines


def model_card(result: ForecastResult) -> str:
    c, e = result.champion, result.experiment
    t = c.trained
    gate = c.gate
    m = c.metrics
    checks = "\n".join(
        f"- {x['name']}: {'pass' if x['passed'] else 'fail'}: {x['detail']}" for x in gate.get("checks", [])
    )
    return "\n".join(
        [
            f"# Model card: {c.name} version {c.version}",
            "",
            "## Model details",
            f"- Model: {method_of(result)}, registered as `{c.name}` version {c.version}, alias `champion`.",
            f"- Trained {c.trained_at} from commit `{gate.get('evidence', {}).get('commit', '')[:12]}`, config hash "
            f"`{gate.get('evidence', {}).get('config_hash', '')}`, data digest `{gate.get('evidence', {}).get('data_digest', '')}`.",
            f"- Owner: {md_cell(provided(result, 'owner'))}. Contact: {md_cell(provided(result, 'contact'))}. "
            f"Organisation: {md_cell(provided(result, 'organisation'))}.",
            "",
            "## Intended use",
            f"- Purpose: {md_cell(provided(result, 'purpose'))}",
            f"- Human oversight: {md_cell(provided(result, 'human_oversight'))}",
            f"- Legal basis: {md_cell(provided(result, 'legal_basis'))}",
            f"- Forecast {t.target.replace('_', ' ')} ({e.report.target_label}) for each area, {', '.join(map(str, t.horizons))} "
            f"{result.panel.spec.frequency.label}(s) ahead, to help services plan. Forecasts inform people's decisions; they "
            "do not make decisions about individuals.",
            "- Not for: decisions about individual households; areas or periods outside the training data; periods of "
            "sudden policy change without review.",
            "",
            "## Data",
            f"- Training data: {c.trained_on}. Forecast data: {result.panel.source}.",
            f"- Geography: {result.areas['area_code'].nunique()} areas. Features: "
            f"{', '.join(b.name for b in t.features)}.",
            "",
            "## Evaluation",
            f"- Rolling-origin backtest, {t.backtest.origins} origins, model refitted at each origin. Training and evaluation "
            f"cut-off: {c.trained_on.split('up to ')[-1]}.",
            f"- MASE {decimal(m.get('mase'))}, WAPE {percent(m.get('wape'))}, bias {signed_percent(m.get('bias'))}, "
            f"{t.backtest.interval_level:.0%} interval coverage {percent(m.get('coverage'))}.",
            *_coverage_by_size(m, t.backtest.interval_level),
            "- Baselines compared: "
            + ", ".join(f"{k} {decimal(v)}" for k, v in gate.get("evidence", {}).get("baselines", {}).items())
            + f" ({gate.get('evidence', {}).get('metric', 'mase').upper()}).",
            "",
            "## Metrics by group (factors)",
            *_groups_table(result),
            "",
            "## Fairness",
            f"- Audit verdict: {'pass' if gate.get('evidence', {}).get('audit_passed') else 'fail'}. Thresholds: "
            + "; ".join(f"{k} {v}" for k, v in t.audit.thresholds.model_dump().items() if v is not None)
            + ".",
            "- Promotion gate:",
            checks,
            "",
            "## Explanations",
            "- SHAP values for every forecast, grouped into plain-language drivers; additivity checked for every row.",
            "- Each forecast's change is explained against the area's own reference (contrastive SHAP, exact); how the "
            "area differs from a typical area is a separate, labelled view. Drivers are not published for suppressed areas.",
            "",
            *monitoring_lines(result),  # forecast ledger (issue 16)
            "## Caveats and recommendations",
            *[f"- {x}" for x in caveats(result)],
            f"- Ethical considerations: {md_cell(provided(result, 'ethical_considerations'))}",
            f"- Impact assessments: {md_cell(provided(result, 'impact_assessments'))}",
            "",
        ]
    )


def transparency_record(result: ForecastResult) -> dict[str, Any]:
    c, e = result.champion, result.experiment
    t = c.trained
    gate = c.gate
    return {
        "standard": "UK Algorithmic Transparency Recording Standard (generated by the workbench)",
        "fields_not_provided": result.experiment.report.missing(),
        "tier_1": {
            "name": e.report.title or f"{c.name} forecasting model",
            "description": (
                f"Forecasts {e.report.target_label} ({t.target.replace('_', ' ')}) for each of "
                f"{result.areas['area_code'].nunique()} areas, {', '.join(map(str, t.horizons))} "
                f"{result.panel.spec.frequency.label}(s) ahead, with intervals and explanations."
            ),
            "website": provided(result, "website"),
            "contact_email": provided(result, "contact"),
        },
        "tier_2": {
            "owner_and_responsibility": {
                "organisation": provided(result, "organisation"),
                "team": provided(result, "owner"),
                "senior_responsible_owner": provided(result, "senior_responsible_owner"),
                "external_supplier": "None: built with an open-source workbench by the team",
            },
            "description_and_rationale": {
                "detailed_description": f"The model {method_of(result)}, chosen by rolling-origin backtest "
                "against baselines.",
                "purpose": provided(result, "purpose"),
                "legal_basis": provided(result, "legal_basis"),
                "scope": f"{result.panel.source}",
                "benefit": provided(result, "benefit"),
                "previous_process": provided(result, "previous_process"),
                "alternatives_considered": "Baselines (" + ", ".join(m.candidate for m in t.baselines) + ") and "
                "other candidates: " + ", ".join(m.candidate for m in t.models if not m.is_baseline),
            },
            "deployment_context": {
                "integration_into_process": provided(result, "integration_into_process"),
                "frequency_and_scale_of_usage": f"Forecasts for {result.areas['area_code'].nunique()} areas each run",
                "human_decisions_and_review": provided(result, "human_oversight"),
                "required_training": provided(result, "required_training"),
                "appeals_and_review": provided(result, "appeals_and_review"),
            },
            "tool_specification": {
                "system_architecture": "Feature building, rolling-origin backtest, model selection, SHAP explanations, "
                "fairness audit and promotion gate, tracked in MLflow",
                "phase": provided(result, "phase"),
                "maintenance": f"Retrained with `make train`; promoted only through the gate (version {c.version})",
                "model_task": "Forecast counts by area and period, with prediction intervals",
                "model_inputs": [b.name for b in t.features],
                "model_output": "Forecast, lower and upper bound per area and period; drivers in plain words",
                "model_architecture": c.candidate,
                "model_performance": _performance(c.metrics),
                "subgroup_performance_and_fairness": {
                    "audit_passed": gate.get("evidence", {}).get("audit_passed"),
                    "thresholds": {k: v for k, v in t.audit.thresholds.model_dump().items() if v is not None},
                },
                "datasets": [c.trained_on, result.panel.source],
                "performance_monitoring": monitoring_record(result),  # forecast ledger (issue 16)
            },
            "development_data": {
                "source": result.panel.source,
                "modality": "Tabular panel: area by period",
                "quantities": f"{count(len(result.panel.frame))} rows, {count(result.areas['area_code'].nunique())} areas",
                "sensitive_attributes": list(result.panel.spec.groups),
                "completeness_and_representativeness": provided(result, "completeness_and_representativeness"),
                "data_collection": provided(result, "data_collection"),
                "data_cleaning": "Validated against the workbench panel contract",
                "data_sharing_agreements": provided(result, "data_sharing_agreements"),
                "data_access_and_storage": provided(result, "data_access_and_storage"),
            },
            "risks_mitigations_and_impact_assessments": {
                "impact_assessments": provided(result, "impact_assessments"),
                "risks": [
                    "Under-forecasting need in some groups of areas",
                    "Shocks and policy changes the model cannot foresee",
                    "Misreading forecasts as certain",
                ],
                "mitigations": [
                    "Fairness audit gates promotion",
                    "Intervals and caveats published with every forecast",
                    "Disclosure control on small numbers",
                    "Human review before use",
                ],
            },
        },
    }


def transparency_markdown(record: dict[str, Any]) -> str:
    lines = [
        f"# Transparency record: {md_cell(record['tier_1']['name'])}",
        "",
        f"Fields marked **{NOT_PROVIDED}** can only be written by the people responsible for the tool; they are set "
        "under `report:` in the experiment.",
        "",
    ]

    def walk(section: dict[str, Any], depth: int) -> None:
        for key, value in section.items():
            title = key.replace("_", " ").capitalize()
            if isinstance(value, dict):
                lines.extend([f"{'#' * depth} {title}", ""])
                walk(value, depth + 1)
            else:
                text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
                text = md_cell(text)
                text = f"**{NOT_PROVIDED}**" if text == NOT_PROVIDED else text
                lines.append(f"- **{title}:** {text}")
        lines.append("")

    walk({"Tier 1": record["tier_1"], "Tier 2": record["tier_2"]}, 2)
    return "\n".join(lines)
