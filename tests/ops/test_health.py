"""/healthz and /readyz, and fast 503 JSON answers through the whole stack when the DB is down."""

import pytest
import requests

from tests.live_server import GunicornServer, free_port

pytestmark = pytest.mark.django_db(transaction=True)

PROXIED = {"X-Forwarded-Proto": "https"}


def test_probes_answer_over_plain_http_for_any_host(live_user):
    with GunicornServer() as server:
        health = requests.get(f"{server.url}/healthz", headers={"Host": "10.0.0.7:8000"})
        ready = requests.get(f"{server.url}/readyz", headers={"Host": "web"})
        # Everything else still validates the host and refuses plain HTTP.
        api = requests.get(f"{server.url}/api/contacts/")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert api.status_code == 403 and api.json()["code"] == "https_required"


def test_a_database_outage_answers_503_json_and_liveness_stays_up(credentials):
    env = {"FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with GunicornServer(env=env) as server:
        login = requests.post(f"{server.url}/api/auth/login/", json=credentials, headers=PROXIED)
    access = login.json()["access"]

    # Same secrets, but the database is a port where nothing listens.
    dead_database = f"postgres://postgres@127.0.0.1:{free_port()}/parsalink_gone"
    with GunicornServer(env=env, database_url=dead_database) as server:

        def call(method, path, **kwargs):
            return requests.request(
                method, f"{server.url}{path}", headers=PROXIED | kwargs.pop("headers", {}), **kwargs
            )

        health = call("GET", "/healthz")
        ready = call("GET", "/readyz")
        login = call("POST", "/api/auth/login/", json=credentials)
        contacts = call("GET", "/api/contacts/", headers={"Authorization": f"Bearer {access}"})
        admin = call("GET", "/admin/", cookies={"sessionid": "a" * 32})

    assert health.status_code == 200
    assert ready.status_code == 503 and ready.json()["code"] == "database_unavailable"
    for response in (login, contacts, admin):
        assert response.status_code == 503, (response.request.url, response.text[:300])
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["code"] == "service_unavailable"
        assert response.headers["Retry-After"] == "1"
