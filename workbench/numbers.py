"""Numbers for reading, in GOV.UK style: thousands separators, sensible rounding, percentages with
one decimal place. One home, so the report, the published CSV, the model card and the transparency
record say the same number the same way. Missing values become an empty string, never 'nan'."""

from __future__ import annotations

import math

__all__ = ["count", "decimal", "percent", "rounded", "signed_percent"]


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def count(value: object) -> str:
    """A whole number with thousands separators: 12345.6 -> '12,346'."""
    number = _finite(value)
    return "" if number is None else f"{round(number):,}"


def rounded(value: object, base: int) -> str:
    """Rounded to the nearest `base` (half away from zero), with thousands separators."""
    number = _finite(value)
    if number is None:
        return ""
    return f"{int(math.copysign(math.floor(abs(number) / base + 0.5), number)) * base:,}"


def percent(fraction: object, places: int = 1) -> str:
    """A fraction as a percentage: 0.12345 -> '12.3%'."""
    number = _finite(fraction)
    return "" if number is None else f"{number * 100:,.{places}f}%"


def signed_percent(fraction: object, places: int = 1) -> str:
    """With its sign, for changes: 0.12345 -> '+12.3%', -0.04 -> '-4.0%', 0 -> '0.0%'."""
    number = _finite(fraction)
    if number is None:
        return ""
    text = f"{abs(number) * 100:,.{places}f}%"
    if text.strip("0.%") == "":
        return text
    return ("+" if number > 0 else "-") + text


def decimal(value: object, places: int = 3) -> str:
    """A ratio or score to a fixed number of places, with separators: 1234.5678 -> '1,234.568'."""
    number = _finite(value)
    return "" if number is None else f"{number:,.{places}f}"
