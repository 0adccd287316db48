import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_documents_the_key_endpoints_and_scheme(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    for path in (
        "/api/api-keys/",
        "/api/api-keys/{id}/",
        "/api/api-keys/{id}/revoke/",
        "/api/api-keys/{id}/roll/",
        "/api/api-keys/{id}/activity/",
    ):
        assert path in schema["paths"], path
    scheme = schema["components"]["securitySchemes"]["apiKeyAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    created = schema["paths"]["/api/api-keys/"]["post"]["responses"]["201"]
    ref = created["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "key" in schema["components"]["schemas"][ref]["properties"]
