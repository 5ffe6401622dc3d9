"""Pydantic's validation errors, translated into messages that name the YAML path, the keys allowed
there, and the likely fix."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

_HIDDEN = {"path", "raw_text"}  # filled in by the loader, not written in YAML


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType) and len([a for a in get_args(annotation) if a is not type(None)]) == 1:
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _walk(loc: tuple[Any, ...], schema: type[BaseModel]) -> tuple[list[str], Any, str | None]:
    """Follow a pydantic error location through the schema.

    Returns the YAML path (without pydantic's union tags), the annotation reached, and the union
    branch (tag) the error came from, so errors from a branch the user clearly did not mean can
    be dropped.
    """
    annotation: Any = schema
    path: list[str] = []
    branch: str | None = None
    i = 0
    while i < len(loc):
        part = loc[i]
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            path.append(str(part))
            i += 1
            if field is None:
                return path + [str(p) for p in loc[i:]], annotation, branch
            annotation = field.annotation
        elif origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            named = [m for m in models if part == m.__name__ or str(part).endswith(f", {m.__name__}]")]
            annotation = named[0] if named else next(m for m in members if m not in models)
            branch = str(part)
            i += 1
        elif origin is dict:
            annotation = get_args(annotation)[1]
            path.append(str(part))
            i += 1
        elif origin is list:
            annotation = get_args(annotation)[0]
            path.append(str(part))
            i += 1
        else:
            path.append(str(part))
            i += 1
    return path, _unwrap(annotation), branch


def _describe(error: dict[str, Any], source: Path, schema: type[BaseModel]) -> tuple[str, str, str | None, bool]:
    """(YAML path, message, union branch, whether the branch only rejected the kind of value)."""
    loc = tuple(error["loc"])
    path, _, branch = _walk(loc, schema)
    wrong_kind = branch is not None and loc[-1] == branch and error["type"].endswith("_type")
    dotted = ".".join(path) or "(top level)"
    if error["type"] == "extra_forbidden":
        _, parent_model, _ = _walk(loc[:-1], schema)
        known = [k for k in getattr(parent_model, "model_fields", {}) if not (parent_model is schema and k in _HIDDEN)]
        key = path[-1]
        parent = ".".join(path[:-1]) or "the top level"
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return dotted, f"{source}: unknown key '{key}' at {parent}; known: {', '.join(known)}{hint}", branch, False
    if error["type"] == "workbench_entries":
        return dotted, "\n".join(f"{source}: {line}" for line in error["msg"].splitlines()), branch, False
    if error["type"] == "missing":
        return dotted, f"{source}: missing required key '{dotted}'", branch, False
    message = error["msg"].removeprefix("Value error, ")
    return dotted, f"{source}: {dotted}: {message}", branch, wrong_kind


def messages(errors: Sequence[Any], source: Path, schema: type[BaseModel]) -> list[str]:
    """One message per problem, in a stable order, for the experiment schema `schema`."""
    described = [_describe(e, source, schema) for e in errors]

    # When one branch of a union only says "wrong kind of value" and another branch has something
    # specific to say about the same place, the user meant the other branch.
    def superseded(path: str, branch: str | None) -> bool:
        return any(
            other_branch != branch and (p.startswith(path + ".") or (p == path and not other_kind))
            for p, _, other_branch, other_kind in described
        )

    kept = [text for path, text, branch, wrong_kind in described if not (wrong_kind and superseded(path, branch))]
    return sorted(dict.fromkeys(kept))
