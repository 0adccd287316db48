"""Shared fixtures: the owner / outsider pair of workspaces and authenticated HTTP clients."""

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, make_user, make_workspace


class HttpsAPIClient(APIClient):
    """The real HTTP stack, as if the request came over TLS (the server refuses plain HTTP)."""

    def generic(
        self, method, path, data="", content_type="application/octet-stream", secure=True, **extra
    ):
        return super().generic(method, path, data, content_type, secure=secure, **extra)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters must not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def api_client() -> HttpsAPIClient:
    return HttpsAPIClient()


@pytest.fixture
def workspace(db):
    return make_workspace("Acme")


@pytest.fixture
def other_workspace(db):
    return make_workspace("Outsider Inc")


@pytest.fixture
def user(workspace):
    return make_user(workspace, email="jane@example.com")


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def tokens(api_client, user):
    response = api_client.post(
        "/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def jwt_client(tokens) -> HttpsAPIClient:
    client = HttpsAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client
