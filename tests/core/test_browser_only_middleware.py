"""Sessions, the session user and messages run for the browser pages and the admin only: an
API request (`/api/…`, Bearer credentials only) never reads or writes a session, whatever
cookies the browser sends along."""

from io import StringIO

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import checks
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from parsalink.core.middleware import (
    BrowserAuthenticationMiddleware,
    BrowserMessageMiddleware,
    BrowserSessionMiddleware,
)
from tests.clients import jwt_client_for
from tests.factories import make_contact
from tests.page_clients import HttpsClient, signed_in_client

pytestmark = pytest.mark.django_db

SESSION_COOKIE = "sessionid"
MESSAGES_COOKIE = "messages"
API_PATHS = ["/api/contacts/", "/api/auth/me/", "/api/api-keys/", "/api/no-such-thing/"]


@pytest.fixture
def operator(workspace) -> User:
    return User.objects.create_superuser(
        "root@example.com", "a very long operator passphrase", workspace=workspace
    )


@pytest.fixture
def browser(user) -> HttpsClient:
    """A browser signed in through /login/: it holds a valid Django session cookie."""
    client = signed_in_client(user)
    assert client.get("/settings/api-keys/").status_code == 200
    return client


@pytest.fixture
def admin_browser(operator) -> HttpsClient:
    """A browser with Django's own authenticated session (the admin's kind)."""
    client = HttpsClient()
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    return client


def session_queries(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "django_session" in query["sql"]]


@pytest.mark.parametrize("path", API_PATHS)
def test_a_browser_session_does_not_authenticate_an_api_request(browser, path):
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(path)
    assert response.status_code in (401, 404), response.content
    if path != "/api/no-such-thing/":
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert session_queries(captured) == []


def test_a_django_admin_session_does_not_authenticate_an_api_request(admin_browser):
    with CaptureQueriesContext(connection) as captured:
        response = admin_browser.get("/api/auth/me/")
    assert response.status_code == 401
    assert session_queries(captured) == []


def test_an_api_request_with_a_session_cookie_has_no_session_user_or_messages(browser):
    request = browser.get("/api/contacts/").wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "_messages")


def _browser_chain(view):
    """The three middlewares in settings order, around `view`."""
    return BrowserSessionMiddleware(BrowserAuthenticationMiddleware(BrowserMessageMiddleware(view)))


def test_the_chain_passes_an_api_request_through_untouched():
    seen = []
    request = RequestFactory().get("/api/contacts/", HTTP_COOKIE=f"{SESSION_COOKIE}=abc")
    response = _browser_chain(lambda r: seen.append(dict(r.__dict__)) or HttpResponse())(request)
    assert not {"session", "user", "_messages"} & set(seen[0])
    assert SESSION_COOKIE not in response.cookies


def test_the_chain_gives_a_page_request_its_session_user_and_messages():
    seen = []
    request = RequestFactory().get("/settings/api-keys/")
    _browser_chain(lambda r: seen.append(dict(r.__dict__)) or HttpResponse())(request)
    assert {"session", "user", "_messages"} <= set(seen[0])


def test_an_api_response_sets_no_session_or_messages_cookie(browser):
    response = browser.get("/api/contacts/")
    assert SESSION_COOKIE not in response.cookies
    assert MESSAGES_COOKIE not in response.cookies


def test_an_api_request_never_saves_the_session_even_when_told_to_every_request(browser, settings):
    settings.SESSION_SAVE_EVERY_REQUEST = True
    with CaptureQueriesContext(connection) as captured:
        response = browser.get("/api/contacts/")
    assert response.status_code == 401
    assert session_queries(captured) == []
    assert SESSION_COOKIE not in response.cookies
    # The pages still do (the setting reaches the Django middleware they run).
    with CaptureQueriesContext(connection) as captured:
        page = browser.get("/settings/api-keys/")
    assert page.status_code == 200
    assert session_queries(captured) != [] and SESSION_COOKIE in page.cookies


def test_a_bearer_request_with_a_session_cookie_is_the_bearers_and_touches_no_session(
    browser, workspace, outsider
):
    make_contact(workspace, first_name="Ours")
    browser.defaults["HTTP_AUTHORIZATION"] = jwt_client_for(outsider)._credentials[
        "HTTP_AUTHORIZATION"
    ]
    with CaptureQueriesContext(connection) as captured:
        response = browser.get("/api/contacts/")
    assert response.status_code == 200
    assert response.json()["results"] == []  # the outsider's workspace, not the cookie's
    assert session_queries(captured) == []


def test_settings_pages_still_work_with_the_session(browser):
    assert browser.get("/settings/api-keys/").status_code == 200
    assert browser.get("/settings/sessions/").status_code == 200
    assert b"Signed in as" in browser.get("/").content


@pytest.mark.parametrize("path", ["/settings/api-keys/", "/settings/sessions/"])
def test_settings_pages_send_a_signed_out_browser_to_login(path):
    response = HttpsClient().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_the_admin_still_sees_its_session_user(admin_browser):
    response = admin_browser.get("/admin/accounts/user/")
    assert response.status_code == 200
    assert b"root@example.com" in response.content


def test_the_admin_sends_a_signed_out_browser_to_its_login():
    response = HttpsClient().get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_browser_only_middlewares_are_djangos_own_classes():
    assert issubclass(BrowserSessionMiddleware, SessionMiddleware)
    assert issubclass(BrowserAuthenticationMiddleware, AuthenticationMiddleware)
    assert issubclass(BrowserMessageMiddleware, MessageMiddleware)


def test_system_checks_find_the_middleware_the_admin_needs():
    ids = {message.id for message in checks.run_checks(include_deployment_checks=False)}
    assert not ids & {"admin.E408", "admin.E409", "admin.E410"}
    call_command("check", stdout=StringIO())  # manage.py check: SystemCheckError on any error
