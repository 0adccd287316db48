"""The login budgets: exact under concurrency, a window from the first attempt, never evictable."""

import hashlib
import threading
from datetime import timedelta
from itertools import count

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.models import normalize_email
from tests.clients import HttpsAPIClient
from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"


def _login(client, email: str, password: str | None = "a wrong password", **extra):
    body = {"email": email} if password is None else {"email": email, "password": password}
    return client.post(LOGIN, body, format="json", **extra)


def _email_whose_key_sorts_first() -> str:
    """An address whose throttle key sorts low: the first a DatabaseCache cull would drop."""
    for i in count():
        email = f"victim{i}@example.com"
        if hashlib.sha256(normalize_email(email).encode()).hexdigest().startswith("00"):
            return email
    raise AssertionError  # pragma: no cover


def test_a_flood_of_other_emails_cannot_reset_a_persons_budget(workspace, api_client, password):
    victim = make_user(workspace, email=_email_whose_key_sorts_first())
    statuses = [_login(api_client, victim.email).status_code for _ in range(10)]
    assert statuses == [401] * 10
    # 400 attempts with other addresses from 400 addresses: no password, so the flood is cheap
    # (rejected as 400 after the throttles counted it) and far over any cache entry limit.
    for i in range(400):
        flood = _login(
            api_client, f"other{i}@example.com", None, REMOTE_ADDR=f"10.1.{i // 250}.{i % 250}"
        )
        assert flood.status_code == 400
    refused = _login(api_client, victim.email, password)
    assert refused.status_code == 429, "the victim's counter survived the flood"


def test_the_eleventh_attempt_is_refused_wherever_the_minute_stands(user, api_client):
    start = timezone.now().replace(second=59, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False) as clock:
        statuses = [_login(api_client, user.email).status_code for _ in range(10)]
        clock.move_to(start + timedelta(seconds=2))  # the next minute on the wall clock
        refused = _login(api_client, user.email)
    assert statuses == [401] * 10
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 50


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_on_one_email_pass_exactly_the_budget(user, settings):
    """Real threads on their own PostgreSQL connections; the body lacks a password, so every
    attempt the budget lets through is a cheap 400 and the hash gate plays no part."""
    settings.THROTTLE_LOGIN_PER_EMAIL = "5/min"
    statuses: list[int] = []
    barrier = threading.Barrier(12)

    def attempt(i: int) -> None:
        client = HttpsAPIClient()
        barrier.wait()
        statuses.append(_login(client, user.email, None, REMOTE_ADDR=f"10.2.0.{i}").status_code)
        connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [400] * 5 + [429] * 7


def test_throttled_attempts_are_in_the_security_log(user, api_client, settings, caplog):
    settings.THROTTLE_LOGIN_PER_IP = "2/min"
    for _ in range(3):
        _login(api_client, user.email)
    [throttled] = [r for r in caplog.records if getattr(r, "event", None) == "throttled"]
    assert (throttled.name, throttled.scope) == ("parsalink.security", "login_ip")


def test_a_peer_that_is_not_the_trusted_proxy_cannot_rotate_x_forwarded_for(
    user, api_client, settings
):
    settings.FORWARDED_ALLOW_IPS = ["10.9.9.9"]
    settings.THROTTLE_LOGIN_PER_IP = "3/min"
    statuses = [
        _login(
            api_client,
            f"someone{i}@example.com",
            REMOTE_ADDR="203.0.113.50",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]
    # The trusted proxy's X-Forwarded-For is believed: each client has its own budget.
    via_proxy = _login(
        api_client, user.email, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.77"
    )
    assert via_proxy.status_code == 401
