"""Small inline SVG charts for the HTML report: no scripts, no files, a text alternative each.

Every value that comes from data (ids, labels, descriptions) is escaped here, so the charts are
returned as `Markup` that the autoescaping template inserts as it is."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from workbench.report.safety import slug

WIDTH, HEIGHT, PAD = 420, 170, 36
INK, FORECAST, BAND, UP, DOWN = "#1b1b1b", "#1d4e89", "#c6d9f0", "#b3261e", "#1b6e3a"


def _scale(values: list[float], low: float, high: float, a: float, b: float) -> list[float]:
    span = high - low or 1.0
    return [a + (v - low) / span * (b - a) for v in values]


def history_chart(
    *,
    chart_id: str,
    periods: list[str],
    actual: list[float | None],
    forecast_periods: list[str],
    forecast: list[float],
    lower: list[float],
    upper: list[float],
    description: str,
) -> Markup:
    """History (published values; gaps where suppressed) and the forecast with its interval."""
    chart_id = slug(chart_id)
    labels = periods + forecast_periods
    xs = _scale(list(range(len(labels))), 0, max(len(labels) - 1, 1), PAD, WIDTH - 10)
    known = [v for v in actual if v is not None] + list(upper) + list(lower)
    if not known:
        return Markup(
            f'<p id="{chart_id}" class="note">History and forecast not shown: the numbers are small and were '
            "suppressed.</p>"
        )
    top = max([*known, 1.0]) * 1.1

    def y(v: float) -> float:
        return _scale([v], 0, top, HEIGHT - 24, 10)[0]

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d"><title id="{chart_id}-t">History and forecast</title>'
        f'<desc id="{chart_id}-d">{escape(description)}</desc>'
    ]
    n = len(periods)
    band = [(xs[n + i], y(u)) for i, u in enumerate(upper)] + [
        (xs[n + i], y(lo)) for i, lo in reversed(list(enumerate(lower)))
    ]
    if band:
        start = (xs[n - 1], y(actual[-1])) if actual and actual[-1] is not None else band[0]
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in [start, *band[: len(upper)], *band[len(upper) :], start])
        parts.append(f'<polygon points="{points}" fill="{BAND}"/>')
    segment: list[str] = []
    for i, v in enumerate(actual):
        if v is None:
            if len(segment) > 1:
                parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{INK}" stroke-width="2"/>')
            segment = []
        else:
            segment.append(f"{xs[i]:.1f},{y(v):.1f}")
    if len(segment) > 1:
        parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{INK}" stroke-width="2"/>')
    if forecast:
        line = ([f"{xs[n - 1]:.1f},{y(actual[-1]):.1f}"] if actual and actual[-1] is not None else []) + [
            f"{xs[n + i]:.1f},{y(f):.1f}" for i, f in enumerate(forecast)
        ]
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="{FORECAST}" stroke-width="2.5" '
            'stroke-dasharray="5 3"/>'
        )
        for i, f in enumerate(forecast):
            parts.append(f'<circle cx="{xs[n + i]:.1f}" cy="{y(f):.1f}" r="3.5" fill="{FORECAST}"/>')
    parts.append(f'<line x1="{PAD}" y1="{HEIGHT - 24}" x2="{WIDTH - 10}" y2="{HEIGHT - 24}" stroke="#6b6b6b"/>')
    ticks = {0, len(labels) - 1} | ({n - 1} if len(labels) - n >= 3 else set())
    for i in sorted(ticks):
        if 0 <= i < len(labels):
            anchor = "end" if i == len(labels) - 1 else ("start" if i == 0 else "middle")
            parts.append(
                f'<text x="{xs[i]:.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="{anchor}" '
                f'fill="{INK}">{escape(labels[i])}</text>'
            )
    parts.append(f'<text x="4" y="16" font-size="11" fill="{INK}">{top / 1.1:,.0f}</text></svg>')
    return Markup("".join(parts))


def drivers_chart(*, chart_id: str, drivers: list[tuple[str, float]], description: str) -> Markup:
    """Horizontal bars: each driver's part of the change, in per cent of the reference level."""
    if not drivers:
        return Markup("")
    chart_id = slug(chart_id)
    height = 26 * len(drivers) + 10
    largest = max(abs(p) for _, p in drivers) or 1.0
    middle, half = 305, 60  # labels on the left up to x=205; bars either side of the middle; room for the %
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d"><title id="{chart_id}-t">Drivers of the forecast</title>'
        f'<desc id="{chart_id}-d">{escape(description)}</desc>'
    ]
    for i, (label, pct) in enumerate(drivers):
        top = 6 + 26 * i
        length = abs(pct) / largest * half
        x = middle if pct >= 0 else middle - length
        colour = UP if pct >= 0 else DOWN
        parts.append(f'<text x="4" y="{top + 14}" font-size="11" fill="{INK}">{escape(label[:36])}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{top + 3}" width="{max(length, 1):.1f}" height="14" fill="{colour}"/>')
        parts.append(
            f'<text x="{(x + length + 4) if pct >= 0 else (x - 4):.1f}" y="{top + 14}" font-size="11" '
            f'text-anchor="{"start" if pct >= 0 else "end"}" fill="{INK}">{pct:+.1f}%</text>'
        )
    parts.append(f'<line x1="{middle}" y1="0" x2="{middle}" y2="{height}" stroke="#6b6b6b"/></svg>')
    return Markup("".join(parts))
