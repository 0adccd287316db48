"""Shared fixtures: the owner / outsider pair of workspaces and authenticated HTTP clients."""

import pytest

from tests.clients import HttpsAPIClient, jwt_client_for, key_client_for, key_for
from tests.factories import PASSWORD, make_user, make_workspace


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


@pytest.fixture
def api_key(user):
    """A key of the `workspace` fixture, created by `user` (`.plain` is the full key)."""
    return key_for(user)


@pytest.fixture
def key_client(api_key) -> HttpsAPIClient:
    return key_client_for(api_key.plain)


@pytest.fixture
def outsider(other_workspace):
    """A person of the other workspace: the caller every tenancy test turns against us."""
    return make_user(other_workspace, email="mallory@example.com")


@pytest.fixture
def outsider_jwt_client(outsider) -> HttpsAPIClient:
    return jwt_client_for(outsider)


@pytest.fixture
def outsider_key_client(outsider) -> HttpsAPIClient:
    return key_client_for(key_for(outsider, name="Outsider key").plain)
