"""The caveats every published forecast carries, in the report and the model card."""

from __future__ import annotations

from workbench.config import BacktestConfig
from workbench.forecast_record import ForecastResult


def _calibration_periods(backtest: BacktestConfig, *, totals: bool) -> str:
    """The origins whose errors calibrated the published intervals: the latest few for areas, every
    one for totals (`workbench.reconcile`)."""
    window, origins = backtest.interval_calibration_origins, backtest.origins
    if window is None or window >= origins:
        return f"{origins} backtest forecast origins"
    return f"the latest {window} of {origins} backtest forecast origins" + (
        f" (totals on all {origins})" if totals else ""
    )


def caveats(result: ForecastResult) -> list[str]:
    trained = result.champion.trained
    items = [
        "These are statistical forecasts from past patterns. They cannot foresee new policies, local decisions, "
        "or shocks such as the COVID period (2020 to 2021), when demand behaved differently.",
        "The drivers describe how the model arrived at each forecast, not proven causes; they compare each area "
        "with a typical area.",
        f"Intervals were calibrated on the errors of {_calibration_periods(trained.backtest, totals=result.totals is not None)}; coverage in a new "
        "period can differ, especially after sudden changes.",
        "Small areas have wide intervals: a handful of households changes the numbers a lot.",
        "Covariates such as possession claims and the claimant count arrive with a publication lag; the forecast "
        "only uses what had been published, and later revisions are not reflected.",
        "Figures are rounded and small numbers suppressed (see the note at the top); rounded figures may not add up.",
    ]
    chosen = result.champion.reconciliation
    if result.totals is not None and chosen is not None and chosen.method != "bottom_up":
        items.append(
            f"Area forecasts were adjusted so that they add up to totals that also weigh each total's own history "
            f"({chosen.method}, chosen in the backtest); the drivers explain each area's forecast before that "
            "adjustment, which is usually small."
        )
    if "synthetic" in result.panel.source:
        items.insert(
            0,
            "The data are synthetic: generated to resemble England's homelessness statistics, with "
            "invented area names. Do not use these figures for decisions.",
        )
    return items
