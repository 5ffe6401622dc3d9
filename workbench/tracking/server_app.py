"""MLflow's basic-auth app with one rule added: only an approver (or an admin) may move the `champion` alias.

MLflow lets anyone with EDIT on a registered model set its aliases, and registering a version needs the same
EDIT, so its permissions alone cannot let data scientists register versions while keeping `champion` for the
approver. This app runs MLflow's own authentication and permission checks first, then refuses a set or delete
of the `champion` alias by a user who is neither an admin nor assigned the approver role. It is started by
`mlflow server --app-name workbench-auth` (an entry point of this package)."""

from __future__ import annotations

from flask import Flask, Response, request

CHAMPION_ALIAS = "champion"
APPROVER_ROLE = "approver"
_ALIAS_ROUTE = "/mlflow/registered-models/alias"
REFUSAL = f"Permission denied: moving the '{CHAMPION_ALIAS}' alias needs the {APPROVER_ROLE} role"


def _moves_champion() -> bool:
    if request.method not in ("POST", "DELETE") or not request.path.endswith(_ALIAS_ROUTE):
        return False
    body = request.get_json(silent=True) or {}
    return (body.get("alias") or request.args.get("alias")) == CHAMPION_ALIAS


def _may_move_champion(username: str) -> bool:
    from mlflow.server.auth import store

    user = store.get_user(username)
    return user.is_admin or any(role.name == APPROVER_ROLE for role in store.list_user_roles(user.id))


def _champion_guard() -> Response | None:
    if not _moves_champion():
        return None
    from mlflow.server.auth import authenticate_request

    authorization = authenticate_request()
    if isinstance(authorization, Response):
        return authorization
    if _may_move_champion(authorization.username):
        return None
    return Response(REFUSAL, status=403)


def create_app(app: Flask | None = None):
    """The basic-auth app (Flask, or FastAPI around it under uvicorn) with the champion rule after its checks."""
    from mlflow.server import app as mlflow_app
    from mlflow.server.auth import create_app as create_basic_auth_app

    flask_app = app or mlflow_app
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
