"""API-key fixtures: a key of the `workspace` fixture and a client that presents it."""

import pytest

from activity.actor import Actor
from apikeys import services
from tests.conftest import HttpsAPIClient


def make_key(user, *, name: str = "Zapier", expires_at=None) -> services.CreatedKey:
    actor = Actor(workspace_id=user.workspace_id, user_id=user.id)
    return services.api_key_create(actor=actor, name=name, expires_at=expires_at)


def client_with(key: str) -> HttpsAPIClient:
    client = HttpsAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api_key(user) -> services.CreatedKey:
    return make_key(user)


@pytest.fixture
def key_client(api_key) -> HttpsAPIClient:
    return client_with(api_key.plain)
