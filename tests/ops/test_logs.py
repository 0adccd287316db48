"""Structured logs: one JSON object a line on stdout, with ids and timings, never a secret."""

import pytest
import requests

from tests.live_server import GunicornServer
from tests.ops.helpers import CapturedOutput

pytestmark = pytest.mark.django_db(transaction=True)

WRONG_PASSWORD = "not-the-password-but-still-secret"


def test_logs_are_json_lines_with_ids_and_no_secrets(credentials, certificate):
    certfile, keyfile = certificate
    env = {"LOG_LEVEL": "INFO"}
    with GunicornServer(env=env, certfile=certfile, keyfile=keyfile) as server:
        output = CapturedOutput(server)
        base = server.url

        def call(method, path, token=None, **kwargs):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return requests.request(
                method, f"{base}{path}", headers=headers, verify=False, **kwargs
            )

        login = call("POST", "/api/auth/login/", json=credentials)
        tokens = login.json()
        me = call("GET", "/api/auth/me/", tokens["access"])
        failed = call("POST", "/api/auth/login/", json={**credentials, "password": WRONG_PASSWORD})
        refreshed = call("POST", "/api/auth/token/refresh/", json={"refresh": tokens["refresh"]})
        new_key = call("POST", "/api/api-keys/", tokens["access"], json={"name": "log test"})
        key = new_key.json()["key"]
        with_key = call("GET", "/api/contacts/", key)
        output.stop()

    assert [login.status_code, me.status_code, failed.status_code] == [200, 200, 401]
    assert refreshed.status_code == 200 and new_key.status_code == 201
    assert with_key.status_code == 200

    secrets = [
        credentials["password"],
        WRONG_PASSWORD,
        tokens["access"],
        tokens["refresh"],
        refreshed.json()["access"],
        refreshed.json()["refresh"],
        key,
        key[:20],  # the key's secret part must not appear either
    ]
    for secret in secrets:
        assert secret not in output.text
    # The JWT signature alone is enough to forge nothing, but it should not be logged either.
    assert tokens["access"].rsplit(".", 1)[1] not in output.text

    records = output.records()  # every line parses as one JSON object
    requests_logged = [r for r in records if r.get("logger") == "parsalink.request"]
    by_path = {(r["method"], r["path"], r["status"]): r for r in requests_logged}
    for record in requests_logged:
        assert record["requestId"] and record["durationMs"] >= 0 and record["time"]
    assert by_path[("GET", "/api/auth/me/", 200)]["userId"] == login.json()["user"]["id"]
    assert by_path[("GET", "/api/auth/me/", 200)]["requestId"] == me.headers["X-Request-ID"]
    assert by_path[("POST", "/api/auth/login/", 401)]["userId"] is None
    key_line = by_path[("GET", "/api/contacts/", 200)]
    assert key_line["apiKeyId"] == new_key.json()["id"]
    assert key_line["apiKeyId"].startswith("key_")


def test_a_sane_client_request_id_is_echoed_and_a_hostile_one_replaced(api_client, db):
    echoed = api_client.get("/api/auth/me/", HTTP_X_REQUEST_ID="trace-123.abc_DEF")
    hostile = api_client.get("/api/auth/me/", HTTP_X_REQUEST_ID='x"}\n{"level":"CRITICAL')
    assert echoed["X-Request-ID"] == "trace-123.abc_DEF"
    assert hostile["X-Request-ID"] != 'x"}\n{"level":"CRITICAL'
    assert len(hostile["X-Request-ID"]) == 26
