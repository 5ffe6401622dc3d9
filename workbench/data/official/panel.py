"""A folder of quarterly H-CLIC workbooks (plus optional covariate files) -> one panel in the contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data import messages as msg
from workbench.data.contract import AREA, AREA_NAME, PERIOD, REGION, Covariate, Frequency, PanelSpec
from workbench.data.findings import Finding, from_message
from workbench.data.official.boundaries import Merge, to_current_boundaries
from workbench.data.official.covariates import IOD_PUBLISHED, claimant_count, deprivation, possession_claims
from workbench.data.official.hclic import read_workbook
from workbench.errors import DataError

COUNTS = [
    "owed_duty",
    "owed_prevention",
    "owed_relief",
    "initial_assessments",
    "households_in_ta",
    "ta_with_children",
    "households",
]
TARGETS = ("owed_duty", "owed_prevention", "owed_relief", "households_in_ta")
STATUS_RANK = {"provisional": 0, "final": 1, "revised": 2}


def workbooks(folder: Path) -> list[Path]:
    found = sorted(
        p for p in folder.glob("*") if p.suffix.lower() in {".xlsx", ".ods"} and not p.name.startswith(("~$", "."))
    )
    if not found:
        raise DataError([from_message(msg.NO_WORKBOOKS, folder=folder)], source=str(folder))
    return found


def read_folder(folder: Path) -> tuple[pd.DataFrame, list[Finding], list[str]]:
    """Authorities by quarter from every workbook; where a quarter appears twice, the revised
    edition replaces the provisional one. Returns the rows, findings and notes on what was chosen."""
    findings: list[Finding] = []
    chosen: dict[pd.Period, tuple[int, str, pd.DataFrame]] = {}
    notes = []
    for path in workbooks(folder):
        table = read_workbook(path)
        findings += table.findings
        key = (STATUS_RANK[table.status], path.name)
        previous = chosen.get(table.period)
        if previous is None or key > previous[:2]:
            if previous is not None:
                notes.append(f"{table.period}: {path.name} ({table.status}) replaces {previous[1]}")
            chosen[table.period] = (*key, table.areas.assign(**{PERIOD: table.period, "release_status": table.status}))
    frame = pd.concat([c[2] for c in chosen.values()], ignore_index=True)
    frame[PERIOD] = frame[PERIOD].astype(pd.PeriodDtype("Q-DEC"))
    return frame, findings, notes


def _explicit_gaps(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    spans = frame.groupby(AREA)[PERIOD].agg(["min", "max"])
    grid = pd.MultiIndex.from_tuples(
        [(a, p) for a, row in spans.iterrows() for p in pd.period_range(row["min"], row["max"], freq="Q")],
        names=[AREA, PERIOD],
    )
    full = frame.set_index([AREA, PERIOD]).reindex(grid).reset_index()
    added = full[full["release_status"].isna()]
    if added.empty:
        return full, []
    return full, [
        from_message(
            msg.MISSING_QUARTERS,
            severity="warning",
            n=added[AREA].nunique(),
            areas=added[AREA].unique(),
            periods=added[PERIOD].astype(str).unique(),
        )
    ]


def load_official(
    folder: Path,
    *,
    deprivation_file: Path | None = None,
    claimant_file: Path | None = None,
    possession_file: Path | None = None,
) -> tuple[pd.DataFrame, PanelSpec, list[Finding], list[str]]:
    frame, findings, notes = read_folder(folder)
    frame, merges = to_current_boundaries(frame, counts=COUNTS, keep=[REGION, "release_status"])
    notes += [m.describe() for m in merges]
    frame, gaps = _explicit_gaps(frame)
    findings += gaps
    latest = frame.sort_values(PERIOD).groupby(AREA)
    for column in (AREA_NAME, REGION):  # static: the latest name and region of each current area
        frame[column] = frame[AREA].map(latest[column].agg(lambda s: s.dropna().iloc[-1] if s.notna().any() else ""))
    frame["households"] = frame.groupby(AREA)["households"].transform(lambda s: s.ffill().bfill())
    frame["owed_duty_per_1000"] = frame["owed_duty"] / frame["households"] * 1000  # recomputed after merging
    covariates = [Covariate("households", 0, count=True), Covariate("owed_duty_per_1000", 0)]
    static, groups = [AREA_NAME, REGION], [REGION]
    last = frame[PERIOD].max()
    if deprivation_file:
        iod = deprivation(deprivation_file, households=frame[frame[PERIOD] == last].set_index(AREA)["households"])
        frame = frame.merge(iod, on=AREA, how="left")
        frame.loc[frame[PERIOD] < IOD_PUBLISHED, "imd_average_score"] = np.nan  # not published yet
        covariates.append(Covariate("imd_average_score", 0))
        static.append("deprivation_quintile")
        groups.append("deprivation_quintile")
        frame["deprivation_quintile"] = frame["deprivation_quintile"].astype("Int64").astype(str)
    if claimant_file:
        frame = frame.merge(claimant_count(claimant_file), on=[AREA, PERIOD], how="left")
        frame.loc[frame[PERIOD] > last - 1, "claimant_rate"] = np.nan
        covariates.append(Covariate("claimant_rate", 1))
    if possession_file:
        frame = frame.merge(
            possession_claims(possession_file, households=frame[[AREA, PERIOD, "households"]]),
            on=[AREA, PERIOD],
            how="left",
        )
        frame.loc[frame[PERIOD] > last - 1, "possession_claims_rate"] = np.nan
        covariates.append(Covariate("possession_claims_rate", 1, count=True))
    spec = PanelSpec(
        frequency=Frequency.QUARTER,
        targets=TARGETS,
        covariates=tuple(covariates),
        static=tuple(static),
        groups=tuple(groups),
        missing_covariates="keep",  # covariates are joined as published, so earlier quarters have none
    )
    return frame, spec, findings, notes


__all__ = ["Merge", "load_official", "read_folder"]
