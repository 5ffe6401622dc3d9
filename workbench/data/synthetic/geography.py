"""England's 296 local authority districts (April 2023 boundaries) as synthetic areas.

The split by type and region is the real one (36 metropolitan, 33 London, 164 shire districts,
63 unitary authorities); codes follow the GSS format; names are invented so that nobody mistakes
the synthetic figures for a real council's. The Isles of Scilly (E06000053) and the City of
London (E09000001) keep their real codes because their tiny size matters for small-count handling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.contract import AREA, AREA_NAME, AREA_TYPE, REGION

REGIONS: tuple[tuple[str, str, dict[str, int]], ...] = (
    ("E12000001", "North East", {"metropolitan": 5, "unitary": 7}),
    ("E12000002", "North West", {"metropolitan": 15, "unitary": 8, "shire": 12}),
    ("E12000003", "Yorkshire and The Humber", {"metropolitan": 9, "unitary": 6}),
    ("E12000004", "East Midlands", {"unitary": 6, "shire": 29}),
    ("E12000005", "West Midlands", {"metropolitan": 7, "unitary": 4, "shire": 19}),
    ("E12000006", "East of England", {"unitary": 6, "shire": 39}),
    ("E12000007", "London", {"london": 33}),
    ("E12000008", "South East", {"unitary": 13, "shire": 51}),
    ("E12000009", "South West", {"unitary": 13, "shire": 14}),
)
TYPE_PREFIX = {"unitary": "E06", "shire": "E07", "metropolitan": "E08", "london": "E09"}
TYPE_LABEL = {
    "unitary": "Unitary authority",
    "shire": "Shire district",
    "metropolitan": "Metropolitan district",
    "london": "London borough",
}
ISLES_OF_SCILLY = "E06000053"
CITY_OF_LONDON = "E09000001"

_STEMS = (
    "Ash",
    "Bram",
    "Calder",
    "Dun",
    "Elm",
    "Fern",
    "Gal",
    "Hart",
    "Ivy",
    "Kings",
    "Lang",
    "Mar",
    "Nor",
    "Oak",
    "Pen",
    "Rad",
    "Sel",
    "Thorn",
    "Ux",
    "Wal",
    "Wick",
    "Brad",
    "Chel",
    "Dor",
    "Esk",
    "Gren",
    "Hol",
    "Lyn",
    "Mor",
    "Pol",
    "Ros",
    "Stan",
    "Tre",
    "Wen",
    "Yar",
    "Ald",
)
_ENDS = (
    "ford",
    "ham",
    "ley",
    "bury",
    "ton",
    "field",
    "dale",
    "wick",
    "mouth",
    "combe",
    "stead",
    "borough",
    "worth",
    "minster",
    "by",
    "thorpe",
)
_SUFFIX = {"unitary": "", "shire": " District", "metropolitan": "", "london": ""}


def _names(count: int, rng: np.random.Generator) -> list[str]:
    pool = [s + e for s in _STEMS for e in _ENDS]
    picks = rng.choice(len(pool), size=count, replace=False)
    return [pool[i] for i in picks]


def england_districts(rng: np.random.Generator) -> pd.DataFrame:
    """One row per district: code, invented name, region code and name, and type."""
    rows = []
    counters = {prefix: 0 for prefix in TYPE_PREFIX.values()}
    for region_code, region_name, types in REGIONS:
        for area_type, count in types.items():
            prefix = TYPE_PREFIX[area_type]
            for _ in range(count):
                counters[prefix] += 1
                if prefix == "E06" and counters[prefix] == int(ISLES_OF_SCILLY[-2:]):
                    counters[prefix] += 1  # E06000053 is kept for the Isles of Scilly below
                code = f"{prefix}{counters[prefix]:06d}"
                rows.append({AREA: code, "region_code": region_code, REGION: region_name, "type_key": area_type})
    frame = pd.DataFrame(rows)
    # The South West's last unitary becomes the Isles of Scilly, so E06000053 is a real, tiny place.
    last_sw_unitary = frame.index[(frame["region_code"] == "E12000009") & (frame["type_key"] == "unitary")][-1]
    frame.loc[last_sw_unitary, AREA] = ISLES_OF_SCILLY
    names = _names(len(frame), rng)
    frame[AREA_NAME] = [n + _SUFFIX[t] for n, t in zip(names, frame["type_key"], strict=True)]
    frame.loc[frame[AREA] == ISLES_OF_SCILLY, AREA_NAME] = "Isles of Scilly"
    frame.loc[frame[AREA] == CITY_OF_LONDON, AREA_NAME] = "City of London"
    frame[AREA_TYPE] = frame["type_key"].map(TYPE_LABEL)
    return frame.sort_values(AREA, ignore_index=True)
