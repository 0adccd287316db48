"""Shared fixtures: the owner (`user`), a `teammate` in the same workspace, an `outsider` in
another, and authenticated HTTP clients for each."""

import pytest

from tests.clients import HttpsAPIClient, jwt_client_for, key_client_for
from tests.factories import PASSWORD, key_for, make_user, make_workspace


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
def teammate(workspace):
    """A second person of the owner's workspace: sees and changes what the owner does."""
    return make_user(workspace, email="tom@example.com")


@pytest.fixture
def teammate_jwt_client(teammate) -> HttpsAPIClient:
    return jwt_client_for(teammate)


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
