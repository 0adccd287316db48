"""The OpenAPI document: complete, valid, and in agreement with real responses."""

import copy
import os
import subprocess
import sys

import jsonschema
import pytest

from tests.live_server import ROOT

pytestmark = pytest.mark.django_db

# Every operation of the contract (shared/contract.md).
CONTRACT_OPERATIONS = {
    ("post", "/api/auth/login/"),
    ("post", "/api/auth/token/refresh/"),
    ("post", "/api/auth/logout/"),
    ("post", "/api/auth/logout-all/"),
    ("get", "/api/auth/me/"),
    ("post", "/api/auth/password/"),
    ("get", "/api/auth/sessions/"),
    ("delete", "/api/auth/sessions/{id}/"),
    ("get", "/api/api-keys/"),
    ("post", "/api/api-keys/"),
    ("get", "/api/api-keys/{id}/"),
    ("patch", "/api/api-keys/{id}/"),
    ("post", "/api/api-keys/{id}/revoke/"),
    ("post", "/api/api-keys/{id}/roll/"),
    ("get", "/api/api-keys/{id}/activity/"),
    ("post", "/api/api-keys/leaked/"),
    ("get", "/api/contacts/"),
    ("post", "/api/contacts/"),
    ("get", "/api/contacts/{id}/"),
    ("patch", "/api/contacts/{id}/"),
    ("put", "/api/contacts/{id}/"),
    ("delete", "/api/contacts/{id}/"),
    ("get", "/api/activity/"),
}
PUBLIC = {
    "/api/auth/login/",
    "/api/auth/token/refresh/",
    "/api/auth/logout/",
    "/api/api-keys/leaked/",
}


@pytest.fixture
def schema(api_client, db) -> dict:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _strict(node):
    """OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a null alternative, and objects
    refuse properties the document does not name (an undocumented field is a disagreement)."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


def assert_matches(schema: dict, method: str, path: str, response) -> None:
    operation = schema["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method.upper()} {path}: status {response.status_code} not documented"
    if response.status_code == 204:
        assert not response.content
        return
    body_schema = documented["content"]["application/json"]["schema"]
    document = {**_strict(copy.deepcopy(body_schema)), "components": _strict(schema["components"])}
    jsonschema.validate(response.json(), document, cls=jsonschema.Draft202012Validator)


def test_schema_documents_every_endpoint_both_bearer_schemes_and_errors(schema):
    operations = {
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations >= CONTRACT_OPERATIONS, CONTRACT_OPERATIONS - operations
    assert not any(path.startswith("/api/_bench") for _, path in operations)

    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtAuth"] == {**schemes["jwtAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"]["scheme"] == "bearer"
    assert "pk_live_" in schemes["apiKeyAuth"]["bearerFormat"]

    for method, path in operations:
        operation = schema["paths"][path][method]
        if path not in PUBLIC:
            assert {"jwtAuth": []} in operation["security"], (method, path)
        for status in ("401", "403", "414", "429", "503"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (method, path, status)
        if method in {"post", "put", "patch"}:
            assert {"400", "413"} <= set(operation["responses"]), (method, path)
        if "{id}" in path:
            assert "404" in operation["responses"], (method, path)
    assert (
        "Retry-After" in schema["paths"]["/api/auth/login/"]["post"]["responses"]["429"]["headers"]
    )


def test_real_responses_match_the_schema(schema, api_client, user, password):
    login = api_client.post(
        "/api/auth/login/", {"email": user.email, "password": password}, format="json"
    )
    assert_matches(schema, "post", "/api/auth/login/", login)
    tokens = login.json()
    assert_matches(
        schema,
        "post",
        "/api/auth/login/",
        api_client.post(
            "/api/auth/login/", {"email": user.email, "password": "nope"}, format="json"
        ),
    )
    bad = api_client.post("/api/auth/login/", {"email": "not an email"}, format="json")
    assert bad.status_code == 400
    assert_matches(schema, "post", "/api/auth/login/", bad)

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert_matches(schema, "get", "/api/auth/me/", api_client.get("/api/auth/me/"))

    created = api_client.post(
        "/api/contacts/",
        {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"},
        format="json",
    )
    assert created.status_code == 201
    assert_matches(schema, "post", "/api/contacts/", created)
    contact_id = created.json()["id"]
    assert_matches(schema, "get", "/api/contacts/", api_client.get("/api/contacts/"))
    assert_matches(
        schema, "get", "/api/contacts/{id}/", api_client.get(f"/api/contacts/{contact_id}/")
    )
    assert_matches(
        schema,
        "patch",
        "/api/contacts/{id}/",
        api_client.patch(f"/api/contacts/{contact_id}/", {"company": "AE"}, format="json"),
    )
    missing = api_client.get("/api/contacts/ct_01HZZZZZZZZZZZZZZZZZZZZZZZ/")
    assert missing.status_code == 404
    assert_matches(schema, "get", "/api/contacts/{id}/", missing)

    key = api_client.post("/api/api-keys/", {"name": "schema test"}, format="json")
    assert key.status_code == 201
    assert_matches(schema, "post", "/api/api-keys/", key)
    assert_matches(schema, "get", "/api/api-keys/", api_client.get("/api/api-keys/"))
    assert_matches(schema, "get", "/api/activity/", api_client.get("/api/activity/"))

    refreshed = api_client.post(
        "/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert_matches(schema, "post", "/api/auth/token/refresh/", refreshed)
    assert_matches(
        schema,
        "delete",
        "/api/contacts/{id}/",
        api_client.delete(f"/api/contacts/{contact_id}/"),
    )

    assert_matches(schema, "get", "/api/auth/sessions/", api_client.get("/api/auth/sessions/"))
    missing_session = api_client.delete("/api/auth/sessions/ses_01HZZZZZZZZZZZZZZZZZZZZZZZ/")
    assert missing_session.status_code == 404
    assert_matches(schema, "delete", "/api/auth/sessions/{id}/", missing_session)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    current = api_client.get("/api/auth/sessions/").json()["results"][0]["id"]
    assert_matches(
        schema,
        "delete",
        "/api/auth/sessions/{id}/",
        api_client.delete(f"/api/auth/sessions/{current}/"),
    )


def test_spectacular_validates_the_schema_with_no_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_DEBUG": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_api_docs_render(api_client, db):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content.lower()


def test_every_documented_request_body_refuses_unknown_fields_as_the_server_does(
    schema, jwt_client
):
    bodies = {
        name: component
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Request")
    }
    assert bodies and all(c.get("additionalProperties") is False for c in bodies.values())
    # The server agrees: an undocumented field is a 400 naming it.
    response = jwt_client.post(
        "/api/contacts/", {"firstName": "Ada", "nickname": "A"}, format="json"
    )
    assert response.status_code == 400
    assert "nickname" in response.json()["fields"]


def test_page_size_limits_are_documented_and_enforced(schema, jwt_client):
    parameters = schema["paths"]["/api/contacts/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "pageSize")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert jwt_client.get("/api/contacts/?pageSize=200").status_code == 200
    assert jwt_client.get("/api/contacts/?pageSize=201").status_code == 400
    assert jwt_client.get("/api/contacts/?pageSize=0").status_code == 400


def test_key_reachable_operations_document_their_scope_and_both_403_codes(schema):
    expected = {
        ("get", "/api/contacts/"): "contacts:read",
        ("post", "/api/contacts/"): "contacts:write",
        ("get", "/api/contacts/{id}/"): "contacts:read",
        ("put", "/api/contacts/{id}/"): "contacts:write",
        ("patch", "/api/contacts/{id}/"): "contacts:write",
        ("delete", "/api/contacts/{id}/"): "contacts:write",
        ("get", "/api/activity/"): "activity:read",
        ("get", "/api/activity/{id}/"): "activity:read",
    }
    documented = {
        (method, path): operation["x-api-key-scope"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "x-api-key-scope" in operation
    }
    assert documented == expected
    for method, path in expected:
        forbidden = schema["paths"][path][method]["responses"]["403"]["description"]
        assert "insufficient_scope" in forbidden and "ip_not_allowed" in forbidden, (method, path)


def test_key_objects_document_scopes_as_an_enum_and_allowed_ips(schema):
    components = schema["components"]["schemas"]
    names = (
        "ApiKeyOutput",
        "ApiKeyCreatedOutput",
        "ApiKeyCreateInputRequest",
        "PatchedApiKeyUpdateInputRequest",
    )
    for name in names:
        properties = components[name]["properties"]
        assert {"scopes", "allowedIps"} <= set(properties), name
        items = properties["scopes"]["items"]
        enum = (
            components[items["$ref"].rsplit("/", 1)[-1]]["enum"]
            if "$ref" in items
            else items["enum"]
        )
        assert set(enum) == {"contacts:read", "contacts:write", "activity:read"}, name
