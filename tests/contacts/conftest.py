"""Owner (workspace A: `user`, `jwt_client`, `key_client`) and outsider (workspace B) callers."""

import pytest

from tests.contacts.clients import jwt_client_for, key_client_for, key_for
from tests.factories import make_user


@pytest.fixture
def api_key(user):
    return key_for(user)


@pytest.fixture
def key_client(api_key):
    return key_client_for(api_key.plain)


@pytest.fixture
def outsider(other_workspace):
    return make_user(other_workspace, email="mallory@example.com")


@pytest.fixture
def outsider_jwt_client(outsider):
    return jwt_client_for(outsider)


@pytest.fixture
def outsider_key_client(outsider):
    return key_client_for(key_for(outsider, name="Outsider key").plain)
