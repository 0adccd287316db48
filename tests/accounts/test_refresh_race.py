"""Simultaneous refreshes of one token, with real threads against PostgreSQL."""

import os
import threading

import pytest
from django.db import connection

from accounts.models import RefreshTokenRecord
from activity.models import ActivityEvent
from tests.accounts.helpers import REFRESH, claims, login
from tests.clients import HttpsAPIClient

# A heavier run: PARSALINK_RACE_THREADS=50 PARSALINK_RACE_REPETITIONS=20.
THREADS = int(os.environ.get("PARSALINK_RACE_THREADS", "20"))
REPETITIONS = int(os.environ.get("PARSALINK_RACE_REPETITIONS", "5"))


def _refresh_all_at_once(token: str, threads: int) -> list[int]:
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            client = HttpsAPIClient()
            barrier.wait(timeout=30)
            response = client.post(REFRESH, {"refresh": token}, format="json")
            statuses.append(response.status_code)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    assert not errors, errors
    return statuses


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(REPETITIONS))
def test_simultaneous_refreshes_exactly_one_wins_and_the_family_dies(api_client, user, round_):
    token = login(api_client, user)["refresh"]

    statuses = _refresh_all_at_once(token, THREADS)

    assert len(statuses) == THREADS
    assert statuses.count(200) == 1, statuses
    assert statuses.count(401) == THREADS - 1, statuses
    family = RefreshTokenRecord.objects.filter(family_id=claims(token)["jti"])
    # One claim, one child: the losers issued nothing, and (as reuse) revoked the family.
    assert family.count() == 2
    assert family.filter(used_at__isnull=False).count() == 1
    assert not family.filter(revoked_at__isnull=True).exists()
    assert ActivityEvent.objects.filter(action="auth.refresh_reuse_detected").exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_within_grace_all_get_the_same_pair(api_client, user, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 30
    token = login(api_client, user)["refresh"]
    bodies: list[bytes] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            client = HttpsAPIClient()
            barrier.wait(timeout=30)
            response = client.post(REFRESH, {"refresh": token}, format="json")
            assert response.status_code == 200, response.content
            bodies.append(response.content)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(8)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)

    assert len(bodies) == 8 and len(set(bodies)) == 1
    assert RefreshTokenRecord.objects.filter(family_id=claims(token)["jti"]).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(max(REPETITIONS, 10)))
def test_no_token_survives_a_logout_all_racing_refreshes(api_client, user, round_):
    """Whatever order the database picks, nothing issued by a racing rotation outlives it."""
    from tests.accounts.helpers import LOGOUT_ALL, me

    sessions = [login(api_client, user) for _ in range(4)]
    barrier = threading.Barrier(len(sessions) + 1)
    issued: list[dict] = []
    statuses: list[int] = []

    def rotate(token: str) -> None:
        try:
            client = HttpsAPIClient()
            barrier.wait(timeout=30)
            response = client.post(REFRESH, {"refresh": token}, format="json")
            if response.status_code == 200:
                issued.append(response.json())
        finally:
            connection.close()

    def logout_all() -> None:
        try:
            client = HttpsAPIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {sessions[0]['access']}")
            barrier.wait(timeout=30)
            statuses.append(client.post(LOGOUT_ALL).status_code)
        finally:
            connection.close()

    pool = [threading.Thread(target=rotate, args=(s["refresh"],)) for s in sessions]
    pool.append(threading.Thread(target=logout_all))
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)

    assert statuses == [204]
    for pair in [*sessions, *issued]:
        assert me(pair["access"]).status_code == 401
        assert (
            HttpsAPIClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code
            == 401
        )
    assert not RefreshTokenRecord.objects.filter(user=user, revoked_at__isnull=True).exists()
