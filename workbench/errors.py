"""Errors the workbench raises on purpose: each says what went wrong, where, and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.data.findings import Finding


# Exit statuses: 1 unexpected (a log has the traceback), 2 a known error, 3 the gate refused,
# 4 the team server refused the user (a role or a sign-in), 130/143 interrupted.
SERVER_REFUSED_EXIT = 4


class WorkbenchError(Exception):
    """Base class for errors that the CLI reports as a clear message and a non-zero exit."""

    exit_code = 2


class ConfigError(WorkbenchError):
    """The experiment YAML is missing, unreadable or does not match the schema."""


class DataError(WorkbenchError):
    """A panel could not be read or failed the contract; carries the findings that explain why."""

    def __init__(self, findings: Sequence[Finding], *, source: str):
        self.findings = tuple(findings)
        self.source = source
        errors = [f for f in self.findings if f.severity == "error"]
        lines = [f"{source}: {len(errors)} problem(s) found; nothing was written."]
        lines += [f"- {finding.render()}" for finding in errors]
        super().__init__("\n".join(lines))
