"""Security headers, admin cookies, no server banner, `check --deploy`, one-line startup errors."""

import json
import os
import re
import secrets
import socket
import subprocess
import sys

import pytest
import requests

from tests.live_server import ROOT, GunicornServer, free_port
from tests.ops.helpers import CapturedOutput

pytestmark = pytest.mark.django_db(transaction=True)


def _production_env(**overrides) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GUNICORN_", "THROTTLE_")) and key != "PORT"
    }
    return {**env, **overrides}


def test_tls_responses_carry_security_headers_and_no_server_banner(certificate, live_user):
    certfile, keyfile = certificate
    with GunicornServer(certfile=certfile, keyfile=keyfile) as server:
        api = requests.get(f"{server.url}/api/auth/me/", verify=False)
        health = requests.get(f"{server.url}/healthz", verify=False)
    with GunicornServer() as plain:
        refused = requests.get(f"{plain.url}/api/contacts/")
    assert api.status_code == 401
    assert api.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    for response in (api, health, refused):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Server" not in response.headers
    # HSTS means nothing over plain HTTP and is not sent there.
    assert refused.status_code == 403 and "Strict-Transport-Security" not in refused.headers


def test_admin_cookies_are_secure_and_http_only(certificate, live_user, password):
    live_user.is_staff = live_user.is_superuser = True
    live_user.save(update_fields=["is_staff", "is_superuser"])
    certfile, keyfile = certificate
    with GunicornServer(certfile=certfile, keyfile=keyfile) as server:
        session = requests.Session()
        form = session.get(f"{server.url}/admin/login/", verify=False)
        csrf = session.cookies["csrftoken"]
        logged_in = session.post(
            f"{server.url}/admin/login/?next=/admin/",
            data={"username": live_user.email, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{server.url}/admin/login/"},
            allow_redirects=False,
            verify=False,
        )
    assert form.status_code == 200
    assert logged_in.status_code == 302, logged_in.text[:500]
    cookies = {c.name: c for c in session.cookies}
    assert {"csrftoken", "sessionid"} <= set(cookies)
    for name in ("csrftoken", "sessionid"):
        assert cookies[name].secure, name
        assert cookies[name].has_nonstandard_attr("HttpOnly"), name
    set_cookie = logged_in.headers["Set-Cookie"]
    assert re.search(r"sessionid=[^;]+;.*HttpOnly", set_cookie)
    assert "Secure" in set_cookie


def test_check_deploy_is_clean_with_production_settings():
    env = _production_env(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="api.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


STRONG = secrets.token_urlsafe(48)
# What .env.example ships, and a secret too short to resist guessing (HS256 is forgeable by
# anyone who finds the key).
WEAK_SECRETS = {
    "placeholder": "change-me",
    "placeholder-padded": "change-me-" + "x" * 40,
    "short": "s3cr3t-but-31-characters-long!!",
}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"DJANGO_DEBUG": "0"}, "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off"),
        ({"DJANGO_SECRET_KEY": STRONG, "GUNICORN_WORKERS": "many"}, "GUNICORN_WORKERS"),
        (
            {"DJANGO_SECRET_KEY": STRONG, "DJANGO_DEBUG": "perhaps"},
            "DJANGO_DEBUG must be 1 or 0",
        ),
    ],
    ids=["no-secret-key", "bad-workers", "bad-debug-flag"],
)
def test_gunicorn_refuses_to_start_with_one_line(overrides, reason):
    env = _production_env(PORT=str(free_port()), **overrides)
    assert reason in _one_line_refusal([sys.executable, "-m", "gunicorn", "parsalink.wsgi"], env)


def _one_line_refusal(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, result.stdout + result.stderr
    output = (result.stdout + result.stderr).strip().splitlines()
    assert len(output) == 1, output
    return output[0]


@pytest.mark.parametrize("setting", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "API_KEY_PEPPER"])
@pytest.mark.parametrize("weak", WEAK_SECRETS.values(), ids=WEAK_SECRETS.keys())
@pytest.mark.parametrize(
    "command",
    [["-m", "gunicorn", "parsalink.wsgi"], ["manage.py", "check", "--deploy"]],
    ids=["gunicorn", "check-deploy"],
)
def test_a_weak_secret_refuses_to_start_with_one_line_naming_it(setting, weak, command):
    env = _production_env(
        PORT=str(free_port()),
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="api.example.com",
        **{"DJANGO_SECRET_KEY": STRONG, setting: weak},
    )
    reason = _one_line_refusal([sys.executable, *command], env)
    assert reason.startswith(f"{setting} must be at least 32 characters"), reason
    assert "change-me" in reason
    if weak != "change-me":
        assert weak not in reason  # the value itself is never printed


def test_weak_secrets_are_accepted_in_local_development():
    env = _production_env(
        DJANGO_DEBUG="1", DJANGO_SECRET_KEY="change-me", JWT_SIGNING_KEY="change-me"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_logs_its_own_messages_as_json(live_user):
    with GunicornServer(env={"LOG_LEVEL": "INFO"}) as server:
        output = CapturedOutput(server)
        requests.get(f"{server.url}/healthz")
        output.stop()
    records = output.records()
    assert any(
        r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records
    )
    assert not any(r["logger"] == "gunicorn.access" for r in records)


def _raw_exchange(port: int, request: bytes) -> tuple[int, bytes, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        raw = sock.makefile("rb").read()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body


def test_requests_refused_by_gunicorns_parser_get_json_errors(live_user):
    """gunicorn answers these itself (Django never sees them); gunicorn.conf.py makes it JSON."""
    cases = {
        "oversized-header": (b"GET /healthz HTTP/1.1\r\nX-Big: " + b"A" * 9000, 431),
        "malformed-header": (b"GET /healthz HTTP/1.1\r\nno colon here", 400),
        "long-request-line": (b"GET /healthz?q=" + b"A" * 5000 + b" HTTP/1.1", 414),
        "unknown-expectation": (b"GET /healthz HTTP/1.1\r\nExpect: colonise-mars", 417),
        "unknown-transfer-coding": (
            b"POST /healthz HTTP/1.1\r\nTransfer-Encoding: rot13, chunked",
            501,
        ),
    }
    codes = {
        400: "bad_request",
        414: "uri_too_long",
        417: "expectation_failed",
        431: "headers_too_large",
        501: "not_implemented",
    }
    with GunicornServer() as server:
        answers = {
            name: (_raw_exchange(server.port, start + b"\r\nHost: 127.0.0.1\r\n\r\n"), expected)
            for name, (start, expected) in cases.items()
        }
    for name, ((status, head, body), expected) in answers.items():
        assert status == expected, (name, head)
        assert b"Content-Type: application/json" in head, name
        assert b"Server:" not in head, name
        error = json.loads(body)
        assert error == {"detail": error["detail"], "code": codes[expected]}, name
        assert b"AAAA" not in body and b"colon" not in body, name
