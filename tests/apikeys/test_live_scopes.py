"""Allowlists and edits on the real server: gunicorn workers, a trusted proxy or none."""

import json

import pytest
import requests

from activity.actor import Actor
from apikeys import services
from tests.factories import key_for
from tests.live_server import GunicornServer, make_certificate

pytestmark = pytest.mark.django_db(transaction=True)

# 127.0.0.1 stands in for a trusted TLS-terminating proxy (the server refuses plain HTTP).
PROXY = {
    "env": {"FORWARDED_ALLOW_IPS": "127.0.0.1"},
    "extra_args": ["--forwarded-allow-ips", "127.0.0.1"],
}


def _via_proxy(key: str, forwarded_for: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {key}",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": forwarded_for,
    }


def _update(user, created, **fields) -> None:
    actor = Actor.system(workspace_id=user.workspace_id, user_id=user.id)
    services.api_key_update(api_key=created.api_key, actor=actor, **fields)


def test_behind_the_trusted_proxy_the_forwarded_address_is_checked(user):
    v4 = key_for(user)
    _update(user, v4, allowed_ips=["203.0.113.0/24"])
    v6 = key_for(user)
    _update(user, v6, allowed_ips=["2001:db8::/32"])
    with GunicornServer(**PROXY) as server:
        url = f"{server.url}/api/contacts/"

        def status(key, forwarded_for):
            response = requests.get(url, headers=_via_proxy(key, forwarded_for), timeout=10)
            return response.status_code, response.json().get("code")

        assert status(v4.plain, "203.0.113.9")[0] == 200
        assert status(v4.plain, "198.51.100.1") == (403, "ip_not_allowed")
        assert status(v6.plain, "2001:db8:1::5")[0] == 200
        assert status(v6.plain, "2001:db9::5") == (403, "ip_not_allowed")


def test_without_a_proxy_the_peer_address_is_checked_and_forwarded_for_ignored(user, tmp_path):
    certfile, keyfile = make_certificate(tmp_path)
    local = key_for(user)
    _update(user, local, allowed_ips=["127.0.0.1"])
    remote = key_for(user)
    _update(user, remote, allowed_ips=["203.0.113.7"])
    with GunicornServer(certfile=certfile, keyfile=keyfile) as server:
        url = f"{server.url}/api/contacts/"

        def get(key):
            headers = {"Authorization": f"Bearer {key}", "X-Forwarded-For": "203.0.113.7"}
            return requests.get(url, headers=headers, timeout=10, verify=False)

        assert get(local.plain).status_code == 200
        spoofed = get(remote.plain)
        assert spoofed.status_code == 403 and spoofed.json()["code"] == "ip_not_allowed"


def test_a_patch_is_in_force_on_the_next_request_on_every_worker(user):
    created = key_for(user)
    with GunicornServer(
        workers=2, env={**PROXY["env"], "LOG_LEVEL": "INFO"}, extra_args=PROXY["extra_args"]
    ) as server:
        url = f"{server.url}/api/contacts/"
        headers = _via_proxy(created.plain, "203.0.113.7")

        def statuses(count: int) -> list[int]:
            # A new connection each time, so both workers answer.
            return [
                requests.get(url, headers=headers, timeout=10).status_code for _ in range(count)
            ]

        assert set(statuses(20)) == {200}
        _update(user, created, scopes=["activity:read"])
        after_scope = statuses(20)
        _update(user, created, scopes=["contacts:read"], allowed_ips=["198.51.100.0/24"])
        after_allowlist = [
            requests.get(url, headers=headers, timeout=10).json()["code"] for _ in range(20)
        ]
        pids = {
            entry["pid"]
            for entry in (_json(line) for line in server.stop())
            if entry and entry.get("path") == "/api/contacts/"
        }
    assert set(after_scope) == {403}
    assert set(after_allowlist) == {"ip_not_allowed"}
    assert len(pids) == 2, "both workers answered"


def _json(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
