"""MLflow's basic-auth app with one rule added: only an approver (or an admin) may move the `champion` alias.

MLflow lets anyone with EDIT on a registered model set its aliases, and registering a version needs the same
EDIT, so its permissions alone cannot let data scientists register versions while keeping `champion` for the
approver. This app runs MLflow's own authentication and permission checks first, then refuses a set or delete
of the `champion` alias, or a write of an `approval.*` tag, by a user who is neither an admin nor assigned
the approver role.

It also offers what MLflow lacks for the gate: a compare-and-set of the champion (COMPARE_AND_SET_ROUTE),
serialised by a PostgreSQL advisory lock, so that a promotion judged against one champion cannot overwrite
another that won meanwhile. It is started by `mlflow server --app-name workbench-auth` (an entry point of
this package)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from mlflow.store.model_registry.abstract_store import AbstractStore
    from sqlalchemy.engine import Engine

CHAMPION_ALIAS = "champion"
APPROVER_ROLE = "approver"
_ALIAS_ROUTE = "/mlflow/registered-models/alias"
REFUSAL = f"Permission denied: moving the '{CHAMPION_ALIAS}' alias needs the {APPROVER_ROLE} role"
COMPARE_AND_SET_ROUTE = "/api/2.0/workbench/champion/compare-and-set"


APPROVAL_TAG_PREFIX = "approval."
APPROVAL_REFUSAL = f"Permission denied: writing '{APPROVAL_TAG_PREFIX}*' tags needs the {APPROVER_ROLE} role"
_TAG_ROUTES = (
    "/mlflow/model-versions/set-tag",
    "/mlflow/model-versions/delete-tag",
    "/mlflow/registered-models/set-tag",
    "/mlflow/registered-models/delete-tag",
)


def _field(key: str) -> str:
    body = request.get_json(silent=True) or {}
    return str(body.get(key) or request.args.get(key) or "")


def _moves_champion() -> bool:
    if request.method not in ("POST", "DELETE") or not request.path.endswith(_ALIAS_ROUTE):
        return False
    return _field("alias") == CHAMPION_ALIAS


def _writes_approval() -> bool:
    """An approval is a tag on a version or a model; EDIT would let anyone who registers versions forge one."""
    if request.method not in ("POST", "DELETE") or not request.path.endswith(_TAG_ROUTES):
        return False
    return _field("key").startswith(APPROVAL_TAG_PREFIX)


def _may_move_champion(username: str) -> bool:
    from mlflow.server.auth import store

    user = store.get_user(username)
    return user.is_admin or any(role.name == APPROVER_ROLE for role in store.list_user_roles(user.id))


def _champion_guard() -> Response | None:
    refusal = REFUSAL if _moves_champion() else APPROVAL_REFUSAL if _writes_approval() else None
    if refusal is None:
        return None
    from mlflow.server.auth import authenticate_request

    authorization = authenticate_request()
    if isinstance(authorization, Response):
        return authorization
    if _may_move_champion(authorization.username or ""):
        return None
    return Response(refusal, status=403)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"champion:{name}".encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def _champion_lock(engine: Engine, name: str) -> Iterator[None]:
    """A PostgreSQL advisory lock per registered model: it holds across the server's worker processes."""
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _lock_key(name)})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _lock_key(name)})
            connection.commit()


def _champion_now(store: AbstractStore, name: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(store.get_model_version_by_alias(name, CHAMPION_ALIAS).version)
    except MlflowException:
        return None


def compare_and_set_champion() -> ResponseReturnValue:
    """POST {name, expected, version}: move `champion` to `version` only if it still points at `expected`
    (null: no champion yet). 200 {swapped: true} when moved; 409 {swapped: false, current} when another
    promotion got there first, so the caller can judge again against the champion that won."""
    from mlflow.server.auth import authenticate_request
    from mlflow.server.handlers import _get_model_registry_store

    body = request.get_json(silent=True) or {}
    name, expected, version = body.get("name"), body.get("expected"), body.get("version")
    if not name or not version:
        return jsonify({"error": "name and version are required; expected is the champion you judged against"}), 400
    authorization = authenticate_request()
    if isinstance(authorization, Response) or not _may_move_champion(authorization.username or ""):
        return Response(REFUSAL, status=403)
    store: Any = _get_model_registry_store()
    if store.engine.dialect.name != "postgresql":
        return jsonify({"error": "compare-and-set needs the PostgreSQL backend store"}), 501
    with _champion_lock(store.engine, name):
        current = _champion_now(store, name)
        if current != (None if expected is None else str(expected)):
            return jsonify({"swapped": False, "current": current}), 409
        store.set_registered_model_alias(name, CHAMPION_ALIAS, str(version))
    return jsonify({"swapped": True, "current": str(version)})


def create_app(app: Flask | None = None) -> object:
    """The basic-auth app (Flask, or FastAPI around it under uvicorn) with the champion rule after its checks."""
    from mlflow.server import app as mlflow_app
    from mlflow.server.auth import BEFORE_REQUEST_VALIDATORS, validate_can_update_registered_model
    from mlflow.server.auth import create_app as create_basic_auth_app

    flask_app = app or mlflow_app
    # MLflow's checks first (signed in, EDIT on the named model); the view then asks for the approver role.
    BEFORE_REQUEST_VALIDATORS[(COMPARE_AND_SET_ROUTE, "POST")] = validate_can_update_registered_model
    flask_app.add_url_rule(COMPARE_AND_SET_ROUTE, view_func=compare_and_set_champion, methods=["POST"])
    wrapped = create_basic_auth_app(flask_app)
    flask_app.before_request(_champion_guard)
    return wrapped


def bootstrap() -> None:
    """Check the secret key and create the admin user once, before the server forks its workers."""
    from mlflow.server.auth import bootstrap_admin_user, get_flask_server_secret_key

    get_flask_server_secret_key()
    bootstrap_admin_user()


if __name__ == "__main__":  # pragma: no cover - run by server.start before the workers
    bootstrap()
