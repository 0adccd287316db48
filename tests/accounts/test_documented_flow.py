"""The documentation's "Example: Full Authentication Flow", run with `requests` against gunicorn."""

import functools

import pytest
import requests
import urllib3

from tests.factories import PASSWORD
from tests.live_server import GunicornServer, make_certificate


@pytest.mark.django_db(transaction=True)
def test_documented_full_authentication_flow_against_gunicorn(tmp_path, user):
    certfile, keyfile = make_certificate(tmp_path)
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    session = requests.Session()
    # Our own throwaway self-signed certificate. (Per request: a REQUESTS_CA_BUNDLE in the
    # environment would override a session-level `verify`.)
    session.request = functools.partial(session.request, verify=False)

    with GunicornServer(certfile=certfile, keyfile=keyfile) as server:
        base = server.url
        assert base.startswith("https://")

        # Step 1: Log in
        response = session.post(
            f"{base}/api/auth/login/", json={"email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        tokens = response.json()
        access_token = tokens["access"]
        refresh_token = tokens["refresh"]

        # Step 2: Make an authenticated request
        headers = {"Authorization": f"Bearer {access_token}"}
        contacts = session.get(f"{base}/api/contacts/", headers=headers)
        assert contacts.status_code == 200, contacts.text
        assert contacts.json()["results"] == []
        created = session.post(f"{base}/api/contacts/", json={"firstName": "Ada"}, headers=headers)
        assert created.status_code == 201, created.text
        listed = session.get(f"{base}/api/contacts/", headers=headers).json()["results"]
        assert [c["firstName"] for c in listed] == ["Ada"]

        # Step 3: Refresh when token expires
        new_tokens = session.post(
            f"{base}/api/auth/token/refresh/", json={"refresh": refresh_token}
        )
        assert new_tokens.status_code == 200, new_tokens.text
        access_token = new_tokens.json()["access"]
        again = session.get(
            f"{base}/api/contacts/", headers={"Authorization": f"Bearer {access_token}"}
        )
        assert again.status_code == 200

        # The rotated-away token is dead, over the real stack too.
        replay = session.post(f"{base}/api/auth/token/refresh/", json={"refresh": refresh_token})
        assert replay.status_code == 401
        assert replay.headers["WWW-Authenticate"].startswith("Bearer")

        # Plain HTTP to the TLS port is not served; the API never answers in the clear.
        with pytest.raises(requests.ConnectionError):
            requests.post(
                f"http://127.0.0.1:{server.port}/api/auth/login/",
                json={"email": user.email, "password": PASSWORD},
                timeout=5,
            )
