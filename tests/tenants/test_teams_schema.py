"""/api/schema/ documents every endpoint of the contract's "Teams" table, its auth and errors."""
from __future__ import annotations

import re

import pytest

from tests.core.test_docs import jwt_scheme_names, operations

TEAMS = {
    "/api/tenants/current/invitations/": {"get": {"200", "401", "403", "404"}, "post": {"201", "400", "401", "403"}},
    "/api/tenants/current/invitations/{}/": {"delete": {"204", "401", "403", "404"}},
    "/api/tenants/current/members/{}/": {"patch": {"200", "400", "401", "403", "404"}, "delete": {"204", "401", "403", "404"}},
    "/api/tenants/invitations/accept/": {"post": {"200", "201", "400", "401", "409"}},
}


@pytest.fixture
def schema(api_client, db) -> dict:
    return api_client.get("/api/schema/", {"format": "json"}).json()


def test_schema_documents_every_teams_operation_with_its_statuses(schema):
    documented = operations(schema)
    by_path = {re.sub(r"\{[^}]+\}", "{}", path): item for path, item in schema["paths"].items()}
    for path, methods in TEAMS.items():
        assert set(methods) <= documented[path], path
        for method, statuses in methods.items():
            assert statuses <= set(by_path[path][method]["responses"]), f"{method} {path}"


def test_teams_operations_need_a_bearer_token_except_accept_where_it_is_optional(schema):
    jwt = jwt_scheme_names(schema)
    by_path = {re.sub(r"\{[^}]+\}", "{}", path): item for path, item in schema["paths"].items()}
    for path, methods in TEAMS.items():
        for method in methods:
            security = by_path[path][method].get("security", [])
            assert any(set(option) & jwt for option in security), f"{method} {path}"
            optional = {} in security
            assert optional == (path == "/api/tenants/invitations/accept/"), f"{method} {path}"


def test_invitation_body_and_output_shapes_are_documented(schema):
    components = schema["components"]["schemas"]
    assert set(components["InvitationOutput"]["properties"]) == {"id", "email", "role", "created_at", "expires_at", "invited_by"}
    accept = components["InvitationAcceptInputRequest"]["properties"]
    assert {"token", "password", "first_name", "last_name"} <= set(accept)
