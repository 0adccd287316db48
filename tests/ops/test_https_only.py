"""HTTPS only: plain HTTP is refused before authentication, throttles or views (real gunicorn)."""

import pytest
import requests

from accounts.models import RefreshTokenRecord
from activity.models import ActivityEvent
from tests.live_server import GunicornServer

pytestmark = pytest.mark.django_db(transaction=True)

# Tight limits: had the refused attempts reached the throttles, the TLS login would be a 429.
STRICT = {"THROTTLE_LOGIN_PER_IP": "2/min", "THROTTLE_LOGIN_PER_EMAIL": "2/min"}


def _without_trusted_proxies(server: GunicornServer) -> GunicornServer:
    # Unset (not empty): gunicorn's own default would then trust 127.0.0.1; gunicorn.conf.py
    # must override it.
    server.env.pop("FORWARDED_ALLOW_IPS", None)
    return server


def test_plain_http_is_refused_with_no_view_run_then_tls_login_succeeds(credentials, certificate):
    events_before = ActivityEvent.objects.count()
    with _without_trusted_proxies(GunicornServer(env=STRICT)) as server:
        assert server.url.startswith("http://")
        responses = [
            requests.get(f"{server.url}/api/contacts/", headers={"Authorization": "Bearer x.y.z"}),
            *[requests.post(f"{server.url}/api/auth/login/", json=credentials) for _ in range(3)],
            *[
                requests.post(
                    f"{server.url}/api/auth/login/",
                    json={**credentials, "password": "wrong password, over HTTP"},
                )
                for _ in range(3)
            ],
        ]
    for response in responses:
        assert response.status_code == 403
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["code"] == "https_required"
        assert "Location" not in response.headers
    # No view ran: no login, no failed-login event, no refresh token.
    assert ActivityEvent.objects.count() == events_before
    assert RefreshTokenRecord.objects.count() == 0

    certfile, keyfile = certificate
    tls = GunicornServer(env=STRICT, certfile=certfile, keyfile=keyfile)
    with _without_trusted_proxies(tls) as server:
        assert server.url.startswith("https://")
        response = requests.post(f"{server.url}/api/auth/login/", json=credentials, verify=False)
        me = requests.get(
            f"{server.url}/api/auth/me/",
            headers={"Authorization": f"Bearer {response.json().get('access')}"},
            verify=False,
        )
    assert response.status_code == 200, response.text
    assert me.status_code == 200 and me.json()["email"] == credentials["email"]
    assert RefreshTokenRecord.objects.count() == 1
    assert list(
        ActivityEvent.objects.filter(action__startswith="auth.").values_list("action", flat=True)
    ) == ["auth.login"]


def test_forwarded_proto_from_an_untrusted_peer_is_ignored(credentials):
    with _without_trusted_proxies(GunicornServer()) as server:
        response = requests.post(
            f"{server.url}/api/auth/login/",
            json=credentials,
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"},
        )
    assert response.status_code == 403
    assert response.json()["code"] == "https_required"
    assert RefreshTokenRecord.objects.count() == 0


def test_forwarded_proto_from_a_trusted_proxy_is_believed(credentials):
    with GunicornServer(env={"FORWARDED_ALLOW_IPS": "127.0.0.1"}) as server:
        refused = requests.post(f"{server.url}/api/auth/login/", json=credentials)
        accepted = requests.post(
            f"{server.url}/api/auth/login/",
            json=credentials,
            headers={"X-Forwarded-Proto": "https"},
        )
        # Only X-Forwarded-Proto counts (gunicorn.conf.py's secure_scheme_headers).
        other_header = requests.post(
            f"{server.url}/api/auth/login/",
            json=credentials,
            headers={"X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"},
        )
    assert refused.status_code == 403 and refused.json()["code"] == "https_required"
    assert accepted.status_code == 200, accepted.text
    assert other_header.status_code == 403


def test_a_trusted_proxy_cannot_pass_on_script_name_or_path_info(credentials):
    """gunicorn would strip a client-chosen SCRIPT_NAME from the path ("/x/admin/" → "/admin/"),
    moving a request past the proxy's path rules; gunicorn.conf.py sets no forwarder_headers."""
    proxied = {"X-Forwarded-Proto": "https"}
    with GunicornServer(env={"FORWARDED_ALLOW_IPS": "127.0.0.1"}) as server:
        moved = requests.get(
            f"{server.url}/x/admin/login/",
            headers={**proxied, "SCRIPT_NAME": "/x"},
            allow_redirects=False,
        )
        mismatched = requests.get(
            f"{server.url}/api/auth/me/",
            headers={**proxied, "SCRIPT_NAME": "/elsewhere"},
        )
        path_info = requests.get(
            f"{server.url}/api/no-such-page/",
            headers={**proxied, "PATH_INFO": "/admin/login/"},
            allow_redirects=False,
        )
        admin = requests.get(f"{server.url}/admin/login/", headers=proxied)
    assert moved.status_code == 404, moved.text[:300]
    assert mismatched.status_code == 401, mismatched.text[:300]
    assert path_info.status_code == 404, path_info.text[:300]
    assert admin.status_code == 200
