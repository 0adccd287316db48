"""Password change guesses spend the person's login budget and are recorded (contract)."""

import threading

import pytest
from django.db import connection

from activity.models import ActivityEvent
from tests.clients import HttpsAPIClient, jwt_client_for

pytestmark = pytest.mark.django_db

PASSWORD_URL = "/api/auth/password/"
NEW = "a brand new passphrase 42"


def _change(client, current: str, new: str = NEW):
    return client.post(
        PASSWORD_URL, {"currentPassword": current, "newPassword": new}, format="json"
    )


def test_wrong_current_passwords_spend_the_login_budget_then_429(
    jwt_client, user, password, caplog
):
    # The login behind jwt_client spent one of THROTTLE_LOGIN_PER_EMAIL's 10 attempts.
    statuses = [_change(jwt_client, f"guess number {i}").status_code for i in range(9)]
    assert statuses == [400] * 9
    refused = _change(jwt_client, password)  # even the right password
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    failed = ActivityEvent.objects.filter(action="auth.password_change_failed")
    assert failed.count() == 9
    assert set(failed.values_list("target_id", flat=True)) == {user.pk}
    logged = [r for r in caplog.records if getattr(r, "event", None)]
    assert sum(r.event == "auth.password_change_failed" for r in logged) == 9
    assert [r.scope for r in logged if r.event == "throttled"] == ["login_email"]


def test_a_right_current_password_does_not_spend_the_budget(settings, user, password, api_client):
    settings.THROTTLE_LOGIN_PER_EMAIL = "3/min"
    client = jwt_client_for(user)  # the login is one of the three
    assert _change(client, "not my password").status_code == 400
    changed = _change(client, password)
    assert changed.status_code == 200
    # Two attempts spent (login + the wrong guess): one login is left.
    login = api_client.post(
        "/api/auth/login/", {"email": user.email, "password": NEW}, format="json"
    )
    assert login.status_code == 200


def test_password_guesses_and_logins_share_one_counter(settings, user, password, api_client):
    settings.THROTTLE_LOGIN_PER_EMAIL = "4/min"
    client = jwt_client_for(user)
    assert [_change(client, f"guess {i}").status_code for i in range(3)] == [400] * 3
    login = {"email": user.email, "password": password}
    assert api_client.post("/api/auth/login/", login, format="json").status_code == 429


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_pass_exactly_the_budget(settings, user):
    """Charged before hashing, atomically: of 8 simultaneous guesses with a budget of 3 (one
    spent by the login), exactly 2 reach the password check."""
    settings.THROTTLE_LOGIN_PER_EMAIL = "3/min"
    access = jwt_client_for(user)._credentials["HTTP_AUTHORIZATION"]
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def guess(i: int) -> None:
        client = HttpsAPIClient()
        client.credentials(HTTP_AUTHORIZATION=access)
        barrier.wait()
        statuses.append(_change(client, f"guess {i}").status_code)
        connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 400, or 503 when the hash gate had no slot; never more than the budget past the check.
    assert statuses.count(429) == 6, statuses
