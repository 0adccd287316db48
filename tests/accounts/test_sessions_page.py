"""Settings → Sessions: the person's sessions, the current one marked; end one or all others."""

import re

import pytest
import time_machine

from accounts.web import SESSION_KEY
from tests.clients import HttpsAPIClient
from tests.factories import PASSWORD
from tests.page_clients import HttpsClient, csrf_token_of, signed_in_client

pytestmark = pytest.mark.django_db

SESSIONS = "/settings/sessions/"


def _api_login(user) -> dict:
    response = HttpsAPIClient().post(
        "/api/auth/login/",
        {"email": user.email, "password": PASSWORD},
        format="json",
        HTTP_USER_AGENT="integration-script/2.1",
    )
    assert response.status_code == 200
    return response.json()


def _end_buttons(html: str) -> list[str]:
    return re.findall(r'action="/settings/sessions/(ses_[^/"]+)/end/"', html)


def test_the_page_lists_the_persons_sessions_with_this_one_marked(user, outsider):
    browser = signed_in_client(user, HTTP_USER_AGENT="Firefox/140")
    _api_login(user)
    _api_login(outsider)
    html = browser.get(SESSIONS).content.decode()
    ids = _end_buttons(html)
    assert len(ids) == 2
    assert browser.session[SESSION_KEY] in ids
    assert html.count("This session") == 1
    assert "integration-script/2.1" in html


def test_ending_another_session_signs_that_browser_out_on_its_next_request(user):
    first = signed_in_client(user)
    second = signed_in_client(user)
    assert second.get(SESSIONS).status_code == 200
    response = first.post(f"/settings/sessions/{second.session[SESSION_KEY]}/end/")
    assert response.status_code == 302 and response["Location"] == SESSIONS
    signed_out = second.get(SESSIONS)
    assert signed_out.status_code == 302
    assert signed_out["Location"] == "/login/?next=/settings/sessions/"
    assert first.get(SESSIONS).status_code == 200


def test_ending_an_api_session_refuses_its_access_token(user):
    browser = signed_in_client(user)
    pair = _api_login(user)
    api = HttpsAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api.get("/api/auth/me/").status_code == 200
    other = next(
        s
        for s in _end_buttons(browser.get(SESSIONS).content.decode())
        if s != browser.session[SESSION_KEY]
    )
    browser.post(f"/settings/sessions/{other}/end/")
    assert api.get("/api/auth/me/").status_code == 401


def test_ending_this_session_signs_this_browser_out(user):
    browser = signed_in_client(user)
    response = browser.post(f"/settings/sessions/{browser.session[SESSION_KEY]}/end/")
    assert response["Location"] == "/login/"
    assert browser.get(SESSIONS).status_code == 302


def test_ending_all_others_keeps_only_this_one(user):
    browser = signed_in_client(user)
    other_browser = signed_in_client(user)
    _api_login(user)
    response = browser.post("/settings/sessions/end-others/", follow=True)
    assert b"Ended 2 other sessions." in response.content
    assert _end_buttons(response.content.decode()) == [browser.session[SESSION_KEY]]
    assert other_browser.get(SESSIONS).status_code == 302


def test_another_persons_session_cannot_be_ended(user, outsider):
    browser = signed_in_client(user)
    theirs = signed_in_client(outsider)
    response = browser.post(f"/settings/sessions/{theirs.session[SESSION_KEY]}/end/", follow=True)
    assert b"That session had already ended." in response.content
    assert theirs.get(SESSIONS).status_code == 200


def test_logout_all_through_the_api_signs_the_browser_out(user):
    browser = signed_in_client(user)
    api = HttpsAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_api_login(user)['access']}")
    assert api.post("/api/auth/logout-all/").status_code == 204
    assert browser.get(SESSIONS).status_code == 302


def test_a_password_change_signs_the_browser_out(user):
    browser = signed_in_client(user)
    user.set_password("a brand new passphrase 42")
    user.save()
    assert browser.get(SESSIONS).status_code == 302


def test_deactivation_signs_the_browser_out(user):
    browser = signed_in_client(user)
    user.is_active = False
    user.save()
    assert browser.get(SESSIONS).status_code == 302


def test_the_session_forms_refuse_a_post_without_their_csrf_token(user, password):
    browser = HttpsClient(enforce_csrf_checks=True)
    token = csrf_token_of(browser, "/login/")
    browser.post(
        "/login/", {"email": user.email, "password": password, "csrfmiddlewaretoken": token}
    )
    current = browser.session[SESSION_KEY]
    assert browser.post("/settings/sessions/end-others/").status_code == 403
    assert browser.post(f"/settings/sessions/{current}/end/").status_code == 403
    assert browser.get(SESSIONS).status_code == 200


def test_using_the_pages_keeps_a_browser_session_alive_under_the_idle_timeout(user, settings):
    settings.JWT_SESSION_IDLE_TIMEOUT = 600
    with time_machine.travel("2026-06-01 12:00:00Z", tick=False) as clock:
        browser = signed_in_client(user)
        clock.shift(400)
        assert browser.get(SESSIONS).status_code == 200
        clock.shift(400)  # 800 s after sign-in, 400 s after the last page
        assert browser.get(SESSIONS).status_code == 200
        clock.shift(601)
        assert browser.get(SESSIONS).status_code == 302
