"""`/admin/login/` is under the same per-email and per-IP budgets as the API login."""

import pytest

from tests.factories import make_user

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def staff(workspace):
    return make_user(workspace, email="operator@example.com", is_staff=True, is_superuser=True)


def _admin_login(client, email: str, password: str, **extra):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password}, secure=True, **extra)


def test_the_admin_login_is_refused_over_the_per_email_budget(client, staff, password, caplog):
    statuses = [_admin_login(client, staff.email, f"guess {i}").status_code for i in range(10)]
    assert statuses == [200] * 10  # the form again, with its error
    refused = _admin_login(client, staff.email, password)  # even the right password
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert b"Too many sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session
    throttled = [r for r in caplog.records if getattr(r, "event", None) == "throttled"]
    assert [r.scope for r in throttled] == ["login_email"]


def test_the_admin_login_is_refused_over_the_per_ip_budget(client, staff, settings):
    settings.THROTTLE_LOGIN_PER_IP = "3/min"
    statuses = [
        _admin_login(client, f"user{i}@example.com", "whatever it is").status_code for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    other_address = _admin_login(client, "x@example.com", "whatever", REMOTE_ADDR="203.0.113.3")
    assert other_address.status_code == 200


def test_admin_and_api_logins_spend_the_same_budget(client, api_client, staff, password, settings):
    settings.THROTTLE_LOGIN_PER_EMAIL = "4/min"
    api = {"email": staff.email, "password": "wrong one"}
    assert [
        api_client.post("/api/auth/login/", api, format="json").status_code for _ in range(2)
    ] == [401, 401]
    assert [_admin_login(client, staff.email, "wrong").status_code for _ in range(2)] == [200, 200]
    assert _admin_login(client, staff.email, password).status_code == 429


def test_the_right_password_within_budget_signs_in(client, staff, password):
    response = _admin_login(client, staff.email, password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == staff.pk
