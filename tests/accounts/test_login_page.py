"""/login/ and /logout/: the API login's budgets, capacity rule and events, for a browser."""

import pytest

from accounts.hashing import HashingBusy
from accounts.models import Session, User
from accounts.web import SESSION_KEY
from activity.models import ActivityEvent
from tests.clients import jwt_client_for
from tests.factories import make_user
from tests.page_clients import LOGIN, HttpsClient, csrf_token_of, sign_in, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    return HttpsClient()


def test_the_login_page_is_a_labelled_form_with_a_csrf_token(browser):
    response = browser.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'for="id_email"' in html and 'for="id_password"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'name="viewport"' in html


def test_the_right_password_signs_in_and_records_the_login(browser, user):
    response = sign_in(browser, user)
    assert response.status_code == 302 and response["Location"] == "/"
    assert browser.session[SESSION_KEY].startswith("ses_")
    assert ActivityEvent.objects.filter(actor=user, action="auth.login").count() == 1
    assert browser.get("/settings/api-keys/").status_code == 200


def test_the_session_cookie_is_secure_httponly_and_lax(browser, user):
    response = sign_in(browser, user)
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_a_wrong_password_is_refused_and_recorded(browser, user):
    response = sign_in(browser, user, "not the password")
    assert response.status_code == 400
    assert b"do not match an account" in response.content
    assert SESSION_KEY not in browser.session
    assert ActivityEvent.objects.filter(actor=user, action="auth.login_failed").count() == 1


def test_system_users_and_inactive_people_cannot_sign_in(browser, workspace, user):
    inactive = make_user(workspace, email="gone@example.com", is_active=False)
    system = User.objects.get(workspace=workspace, is_system=True)
    assert sign_in(browser, inactive).status_code == 400
    assert sign_in(browser, system).status_code == 400
    assert SESSION_KEY not in browser.session


def test_the_login_page_is_refused_over_the_per_email_budget(browser, user, password):
    statuses = [sign_in(browser, user, f"guess {i}").status_code for i in range(10)]
    assert statuses == [400] * 10
    refused = sign_in(browser, user, password)  # even the right password
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert b"Too many sign-in attempts" in refused.content
    assert SESSION_KEY not in browser.session


def test_the_login_page_is_refused_over_the_per_ip_budget(browser, user, settings):
    settings.THROTTLE_LOGIN_PER_IP = "3/min"
    statuses = [
        browser.post(LOGIN, {"email": f"u{i}@example.com", "password": "x"}).status_code
        for i in range(4)
    ]
    assert statuses == [400, 400, 400, 429]


def test_the_login_page_and_the_api_login_spend_the_same_budget(
    browser, api_client, user, password, settings
):
    settings.THROTTLE_LOGIN_PER_EMAIL = "4/min"
    wrong = {"email": user.email, "password": "wrong one"}
    assert [
        api_client.post("/api/auth/login/", wrong, format="json").status_code for _ in range(2)
    ] == [401, 401]
    assert [sign_in(browser, user, "wrong").status_code for _ in range(2)] == [400, 400]
    assert sign_in(browser, user, password).status_code == 429


def test_no_hashing_capacity_is_a_readable_429(browser, user, monkeypatch):
    def busy(**credentials):
        raise HashingBusy

    monkeypatch.setattr("accounts.views.browser_login", busy)
    response = sign_in(browser, user)
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    assert b"The server is busy" in response.content
    assert SESSION_KEY not in browser.session


@pytest.mark.parametrize(
    ("next_path", "lands_on"),
    [
        ("/settings/activity/", "/settings/activity/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
    ],
)
def test_next_only_leads_to_a_path_of_this_site(browser, user, password, next_path, lands_on):
    response = browser.post(LOGIN, {"email": user.email, "password": password, "next": next_path})
    assert response.status_code == 302
    assert response["Location"] == lands_on


def test_the_login_form_refuses_a_post_without_its_csrf_token(user):
    browser = HttpsClient(enforce_csrf_checks=True)
    response = sign_in(browser, user)
    assert response.status_code == 403
    assert b"This form has expired" in response.content
    assert response["Content-Type"].startswith("text/html")
    assert not ActivityEvent.objects.filter(action__startswith="auth.login").exists()


def test_the_login_form_with_its_token_works_under_csrf_checks(user, password):
    browser = HttpsClient(enforce_csrf_checks=True)
    token = csrf_token_of(browser, LOGIN)
    response = browser.post(
        LOGIN, {"email": user.email, "password": password, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_logout_is_post_only_and_ends_the_browser_session(user):
    browser = signed_in_client(user)
    assert browser.get("/logout/").status_code == 405
    assert browser.get("/settings/sessions/").status_code == 200
    response = browser.post("/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert browser.get("/settings/sessions/").status_code == 302


def test_logout_refuses_a_post_without_its_csrf_token(user, password):
    browser = HttpsClient(enforce_csrf_checks=True)
    token = csrf_token_of(browser, LOGIN)
    browser.post(LOGIN, {"email": user.email, "password": password, "csrfmiddlewaretoken": token})
    assert browser.post("/logout/").status_code == 403
    assert browser.get("/settings/sessions/").status_code == 200


def test_a_bearer_token_opens_no_page(user):
    api = jwt_client_for(user)
    browser = HttpsClient(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])
    response = browser.get("/settings/api-keys/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/settings/api-keys/"


def test_the_landing_page_offers_a_sign_in_link_or_the_settings(browser, user):
    signed_out = browser.get("/")
    assert signed_out.status_code == 200
    assert b'href="/login/"' in signed_out.content
    sign_in(browser, user)
    signed = browser.get("/")
    assert b'href="/settings/api-keys/"' in signed.content
    assert b'href="/api/docs/"' in signed.content


def test_the_favicon_is_served(browser):
    response = browser.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"


def test_logout_ends_the_session_and_records_a_logout(user):
    browser = signed_in_client(user)
    session_id = browser.session[SESSION_KEY]
    browser.post("/logout/")
    session = Session.objects.get(pk=session_id)
    assert session.ended_at is not None and session.kind == Session.BROWSER
    assert ActivityEvent.objects.filter(actor=user, action="auth.logout").count() == 1


def test_a_signed_in_page_checks_its_session_with_one_query(user, django_assert_num_queries):
    browser = signed_in_client(user)
    # The Django session row, then the live-session check (which brings the person).
    with django_assert_num_queries(2):
        assert b"Signed in as" in browser.get("/").content
