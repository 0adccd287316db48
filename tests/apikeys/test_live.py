"""The real server (gunicorn, several workers, PostgreSQL): restarts and revocation."""

import signal
import threading
import time

import pytest
import requests

from apikeys.models import ApiKeyUsage
from tests.factories import key_for
from tests.live_server import GunicornServer

pytestmark = pytest.mark.django_db(transaction=True)

# 127.0.0.1 stands in for a trusted TLS-terminating proxy (the server refuses plain HTTP).
PROXY = {
    "env": {"FORWARDED_ALLOW_IPS": "127.0.0.1"},
    "extra_args": ["--forwarded-allow-ips", "127.0.0.1"],
}


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-Forwarded-Proto": "https", "User-Agent": "live/1"}


def _hammer(url: str, key: str, stop: threading.Event, answered: list[int]) -> None:
    """Send requests until told to stop; count the ones that got an answer."""
    with requests.Session() as session:
        while not stop.is_set():
            try:
                response = session.get(url, headers=_headers(key), timeout=10)
            except requests.ConnectionError:
                continue  # the server is going away: never processed
            answered.append(response.status_code)


def test_a_graceful_restart_loses_no_usage_rows(user):
    key = key_for(user).plain
    answered: list[int] = []
    for _ in range(2):  # serve, SIGTERM while under load, start again
        stop = threading.Event()
        with GunicornServer(workers=2, **PROXY) as server:
            url = f"{server.url}/api/api-keys/"
            threads = [
                threading.Thread(target=_hammer, args=(url, key, stop, answered)) for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            target, deadline = len(answered) + 50, time.monotonic() + 60
            while len(answered) < target and time.monotonic() < deadline:
                time.sleep(0.01)
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(timeout=30) == 0
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
    assert answered and set(answered) == {403}  # authenticated, then refused: keys can't manage
    assert ApiKeyUsage.objects.count() == len(answered)
    assert set(ApiKeyUsage.objects.values_list("status", "user_agent")) == {(403, "live/1")}


def test_revocation_is_immediate_on_every_worker(user, tokens):
    created = key_for(user)
    with GunicornServer(workers=2, **PROXY) as server:
        url = f"{server.url}/api/api-keys/"
        # Warm both workers (each keeps its own database connection).
        assert {
            requests.get(url, headers=_headers(created.plain)).status_code for _ in range(10)
        } == {403}
        jwt = {"Authorization": f"Bearer {tokens['access']}", "X-Forwarded-Proto": "https"}
        revoke = requests.post(f"{url}{created.api_key.id}/revoke/", headers=jwt, timeout=10)
        assert revoke.status_code == 200
        after = [requests.get(url, headers=_headers(created.plain), timeout=10) for _ in range(20)]
    assert {(r.status_code, r.json()["code"]) for r in after} == {(401, "key_revoked")}
