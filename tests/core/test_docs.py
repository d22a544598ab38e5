"""API docs (OpenAPI schema, Swagger UI served without a CDN, ReDoc) and CORS on /api/."""
from __future__ import annotations

import json
import re

import pytest

# Every path and method of the contract's Auth and Tenants tables.
CONTRACT_OPERATIONS = {
    "/api/auth/register/": {"post"},
    "/api/auth/login/": {"post"},
    "/api/auth/refresh/": {"post"},
    "/api/auth/verify/": {"post"},
    "/api/auth/logout/": {"post"},
    "/api/auth/logout-all/": {"post"},
    "/api/auth/me/": {"get"},
    "/api/auth/password/change/": {"post"},
    "/api/auth/sessions/": {"get"},
    "/api/auth/sessions/{}/": {"delete"},
    "/api/tenants/current/": {"get", "patch"},
    "/api/tenants/current/members/": {"get", "post"},
}
PUBLIC = {"/api/auth/register/", "/api/auth/login/", "/api/auth/refresh/", "/api/auth/verify/"}
ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.fixture
def schema(api_client, db) -> dict:
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict) -> dict[str, set[str]]:
    """Paths with their parameter names blanked ({session_id} -> {}), and their methods."""
    return {re.sub(r"\{[^}]+\}", "{}", path): set(item) - {"parameters"} for path, item in schema["paths"].items()}


def jwt_scheme_names(schema: dict) -> set[str]:
    return {
        name for name, scheme in schema["components"]["securitySchemes"].items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
        and scheme.get("bearerFormat") == "JWT"
    }


def test_schema_is_an_openapi_3_document(api_client, db):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3." in response.content  # YAML by default
    assert api_client.get("/api/schema/", {"format": "json"}).json()["openapi"].startswith("3.")


def test_schema_documents_every_contract_endpoint(schema):
    documented = operations(schema)
    for path, methods in CONTRACT_OPERATIONS.items():
        assert path in documented, f"{path} missing from the schema"
        assert methods <= documented[path], f"{path}: {methods - documented[path]} undocumented"


def test_schema_offers_bearer_jwt_authorization(schema):
    assert jwt_scheme_names(schema)


def test_protected_operations_require_the_bearer_jwt_and_public_ones_do_not(schema):
    jwt_names = jwt_scheme_names(schema)
    by_path = {re.sub(r"\{[^}]+\}", "{}", path): item for path, item in schema["paths"].items()}
    for path, methods in CONTRACT_OPERATIONS.items():
        for method in methods:
            required = {name for option in by_path[path][method].get("security", []) for name in option}
            if path in PUBLIC:
                assert not required & jwt_names, f"{method.upper()} {path} should need no token"
            else:
                assert required & jwt_names, f"{method.upper()} {path} should need a bearer token"


def test_schema_documents_error_bodies_with_detail_and_code(schema):
    me_401 = schema["paths"]["/api/auth/me/"]["get"]["responses"]["401"]
    ref = me_401["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"detail", "code"} <= set(schema["components"]["schemas"][ref]["properties"])


def test_swagger_ui_is_html_with_assets_from_our_own_static(api_client, db):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "swagger-ui" in page
    assert not re.search(r"https?://", page), "the page must not load anything from a CDN"
    assets = ASSET.findall(page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    # Every asset is ours: static files, and Swagger UI's start-up script from this view itself
    # (?script: a file, not inline, for the page's Content-Security-Policy).
    assert all(a.startswith("/static/") or a == "/api/docs/?script=" for a in assets), assets


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_assets_are_served_by_the_app(api_client, db, path):
    assets = ASSET.findall(api_client.get(path).content.decode())
    assert assets
    for asset in assets:
        response = api_client.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, asset


def swagger_init_script(api_client) -> str:
    """The script that starts Swagger UI: inline in the page, or the page's own `?script` URL."""
    page = api_client.get("/api/docs/").content.decode()
    if "swaggerSettings" in page:
        return page
    (src,) = [a for a in re.findall(r'<script src="([^"]+)"', page) if "script" in a.split("?", 1)[-1]]
    return api_client.get(src.replace("&amp;", "&")).content.decode()


def test_swagger_ui_does_not_persist_the_bearer_token(api_client, db):
    """Issue 23: with persistAuthorization the token pasted into Authorize went to localStorage."""
    script = swagger_init_script(api_client)

    served = json.loads(re.search(r"const swaggerSettings = (\{.*?\});", script, re.S).group(1))
    assert served.get("persistAuthorization", False) is False


def test_swagger_ui_points_at_our_schema(api_client, db):
    assert '"/api/schema/"' in swagger_init_script(api_client)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/?script=", "/api/redoc/", "/static/demo.html"])
def test_docs_and_demo_pages_send_a_content_security_policy(api_client, db, path):
    """Issue 23: they sent none. Scripts from this origin only, as files; fetches to this origin
    only; no framing (tests/accounts/test_browser_client.py: the pages still work under it)."""
    policy = api_client.get(path)["Content-Security-Policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in policy and "http" not in policy


def test_the_swagger_ui_page_has_no_inline_script(api_client, db):
    page = api_client.get("/api/docs/").content.decode()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []


def test_redoc_is_html_without_a_cdn(api_client, db):
    response = api_client.get("/api/redoc/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "redoc" in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']https?://""", page)


# --- CORS -----------------------------------------------------------------------------------
ALLOWED_ORIGIN = "https://app.example.com"


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED_ORIGIN]


def test_listed_origin_gets_cors_headers_on_api_responses(api_client, db, cors):
    response = api_client.get("/api/auth/me/", HTTP_ORIGIN=ALLOWED_ORIGIN)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert "x-request-id" in exposed


def test_listed_origin_passes_the_preflight_with_authorization_header(api_client, db, cors):
    response = api_client.options(
        "/api/auth/me/", HTTP_ORIGIN=ALLOWED_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "authorization" in response["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://app.example.com", "https://app.example.com.evil"])
def test_unlisted_origin_gets_no_cors_headers(api_client, db, cors, origin):
    response = api_client.get("/api/auth/me/", HTTP_ORIGIN=origin)
    assert "Access-Control-Allow-Origin" not in response
    preflight = api_client.options("/api/auth/login/", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in preflight
