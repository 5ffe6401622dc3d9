"""Validation findings: one problem, where it is (file, column, areas, periods, rows) and how to fix it.

Validation returns findings instead of raising so that callers decide what to do: the CLI turns
errors into a non-zero exit, a notebook can print them, a test can assert them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
_SHOW = 5  # how many examples of areas, periods or rows to name before summarising


def _examples(values: Sequence[object]) -> str:
    shown = ", ".join(str(v) for v in values[:_SHOW])
    more = len(values) - _SHOW
    return f"{shown} and {more} more" if more > 0 else shown


@dataclass(frozen=True)
class Finding:
    """One problem with a panel.

    `check` is a stable identifier (tests and tooling match on it); `message` is the sentence a
    person reads; `rows` are row labels as the user sees them (file line numbers for CSV).
    """

    check: str
    message: str
    fix: str
    column: str | None = None
    areas: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()
    severity: Severity = "error"

    def render(self) -> str:
        where = []
        if self.column:
            where.append(f"column '{self.column}'")
        if self.areas:
            where.append(f"areas {_examples(self.areas)}")
        if self.periods:
            where.append(f"periods {_examples(self.periods)}")
        if self.rows:
            where.append(f"rows {_examples(self.rows)}")
        location = f" [{'; '.join(where)}]" if where else ""
        return f"{self.message}{location}. Fix: {self.fix}"


def errors_in(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def from_message(
    entry: tuple[str, str],
    *,
    severity: Severity = "error",
    column: str | None = None,
    areas: Iterable[object] = (),
    periods: Iterable[object] = (),
    rows: Iterable[int] = (),
    **values: object,
) -> Finding:
    """A finding from one of the (message, fix) pairs in `messages`, its check named after the constant."""
    from workbench.data import messages

    check = next(name for name, value in vars(messages).items() if value is entry).lower()
    message, fix = entry
    return Finding(
        check=check,
        message=message.format(column=column, **values),
        fix=fix.format(column=column, **values),
        column=column,
        areas=tuple(str(a) for a in areas),
        periods=tuple(str(p) for p in periods),
        rows=tuple(int(r) for r in rows),
        severity=severity,
    )
