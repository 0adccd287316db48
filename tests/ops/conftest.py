"""Fixtures for the operations tests: a committed user and a certificate for TLS servers."""

import pytest

from tests.factories import PASSWORD, make_user, make_workspace
from tests.live_server import make_certificate


@pytest.fixture
def live_user(transactional_db):
    """A user whose rows are committed, so a gunicorn process sees them."""
    return make_user(make_workspace("Ops Inc"), email="ops@example.com")


@pytest.fixture
def credentials(live_user) -> dict:
    return {"email": live_user.email, "password": PASSWORD}


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[str, str]:
    return make_certificate(tmp_path_factory.mktemp("tls"))
