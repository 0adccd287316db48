import pytest
from django.test import override_settings

from tests.apikeys.conftest import client_with, make_key

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apikeys.urls")]

PROBE = "/probe/whoami/"


@override_settings(THROTTLE_API_KEY="2/min")
def test_each_key_has_its_own_rate(key_client, user, caplog):
    assert [key_client.get(PROBE).status_code for _ in range(3)] == [200, 200, 429]
    assert client_with(make_key(user, name="other").plain).get(PROBE).status_code == 200
    assert any(r.getMessage() == "api_key.throttled" for r in caplog.records)


@override_settings(THROTTLE_API_KEY="1/min")
def test_jwt_requests_are_not_counted(jwt_client):
    assert [jwt_client.get(PROBE).status_code for _ in range(3)] == [200, 200, 200]
