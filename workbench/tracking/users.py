"""The team's three roles as MLflow permissions on the server, and the accounts that hold them.

data-scientist  creates experiments and runs, registers versions (EDIT); cannot move `champion`
reviewer        reads every experiment, run, artifact and registered model (READ); any write answers 403
approver        reads runs and manages registered models (MANAGE), so records approvals and moves `champion`

MLflow's EDIT on a registered model would also allow setting its aliases; the server's app
(server_app.py) keeps the `champion` alias for holders of the approver role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from mlflow.server.auth.client import AuthServiceClient

WORKSPACE = "default"


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    grants: tuple[tuple[str, str], ...]  # (resource type, permission) on every resource ("*") of the type


ROLES: dict[str, Role] = {
    "data-scientist": Role(
        "data-scientist",
        "Train: create experiments and runs, register model versions",
        (("workspace", "USE"), ("experiment", "EDIT"), ("registered_model", "EDIT")),
    ),
    "reviewer": Role(
        "reviewer",
        "Inspect: read experiments, runs, artifacts and registered models; change nothing",
        (("experiment", "READ"), ("registered_model", "READ")),
    ),
    "approver": Role(
        "approver",
        "Approve: record approvals and move the champion alias",
        (("workspace", "USE"), ("experiment", "READ"), ("registered_model", "MANAGE")),
    ),
}


class UnknownRole(WorkbenchError):
    """A role name the workbench does not define."""


def _role(name: str) -> Role:
    if name not in ROLES:
        raise UnknownRole(f"unknown role '{name}'; known: {', '.join(ROLES)}")
    return ROLES[name]


def auth_client(uri: str) -> AuthServiceClient:
    """MLflow's client for the auth app's REST API; it signs in with MLFLOW_TRACKING_USERNAME/PASSWORD."""
    import warnings

    with warnings.catch_warnings():  # importing mlflow.server warns about Starlette internals it uses
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*starlette.*", category=UserWarning)  # Starlette's own kind
        from mlflow.server import get_app_client

        client: AuthServiceClient = get_app_client("basic-auth", tracking_uri=uri)
        return client


def ensure_roles(client: AuthServiceClient) -> dict[str, int]:
    """Create any of the three roles the server lacks, with their grants; returns role name -> id. Idempotent."""
    existing = {role.name: role for role in client.list_roles(WORKSPACE)}
    ids = {}
    for role in ROLES.values():
        made = existing.get(role.name) or client.create_role(WORKSPACE, role.name, role.description)
        held = {(p.resource_type, p.resource_pattern): p for p in client.list_role_permissions(made.id)}
        for resource_type, permission in role.grants:
            grant = held.get((resource_type, "*"))
            if grant is None:
                client.add_role_permission(made.id, resource_type, "*", permission)
            elif grant.permission != permission:
                client.update_role_permission(grant.id, permission)
        ids[role.name] = made.id
    return ids


def add_user(client: AuthServiceClient, *, username: str, password: str, role: str) -> None:
    """Create the account (or set its password if it exists) and give it exactly `role` among the workbench's roles."""
    from mlflow.exceptions import MlflowException

    wanted = _role(role)
    ids = ensure_roles(client)
    try:
        client.create_user(username, password)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        client.update_user_password(username, password)
    held = {r.name for r in client.list_user_roles(username)}
    for name in held & set(ROLES) - {wanted.name}:
        client.unassign_role(username, ids[name])
    if wanted.name not in held:
        client.assign_role(username, ids[wanted.name])


def roles_of(client: AuthServiceClient, username: str) -> list[str]:
    return sorted(r.name for r in client.list_user_roles(username))
