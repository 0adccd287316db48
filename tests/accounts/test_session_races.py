"""Ending a session while its refresh token is being rotated, with real threads on PostgreSQL."""

import os
import threading

import pytest
from django.db import connection

from accounts.models import RefreshTokenRecord, Session
from tests.accounts.helpers import LOGOUT, REFRESH, claims, login, me
from tests.clients import HttpsAPIClient

ROUNDS = int(os.environ.get("PARSALINK_RACE_REPETITIONS", "5")) * 2


def _together(*calls) -> list:
    """Run each call in its own thread (own connection), released at the same instant."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ender", ["delete", "logout"])
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_refresh_racing_the_end_of_its_session_never_leaves_a_live_token(
    api_client, user, ender, round_
):
    pair = login(api_client, user)
    other = login(api_client, user)  # the device that ends the session
    session_id = claims(pair["access"])["sid"]

    def rotate():
        return HttpsAPIClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json")

    def end():
        client = HttpsAPIClient()
        if ender == "delete":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {other['access']}")
            return client.delete(f"/api/auth/sessions/{session_id}/")
        return client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json")

    rotated, ended = _together(rotate, end)

    assert ended.status_code == 204, ended.content
    assert rotated.status_code in (200, 401), rotated.content
    assert Session.objects.get(pk=session_id).ended_at is not None
    assert not RefreshTokenRecord.objects.filter(session_id=session_id, revoked_at__isnull=True)
    if rotated.status_code == 200:  # the rotation won: what it issued died with the session
        child = rotated.json()
        assert me(child["access"]).status_code == 401
        assert (
            api_client.post(REFRESH, {"refresh": child["refresh"]}, format="json").status_code
            == 401
        )
    assert me(pair["access"]).status_code == 401
    assert me(other["access"]).status_code == 200
