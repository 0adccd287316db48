"""The documented API-key flow in a real browser over TLS, from sign-in to revocation.

A person signs in at /login/, creates a key ("Settings → API Keys", "Create API Key", "Copy the
key — it is only shown once"), calls the API with what the clipboard holds, reviews that call on
the key's usage page, revokes the key ("find the key, and click Revoke") and sees the next call
refused and marked; then ends a session started by an API login and sees its access token
refused. Every page is photographed for docs/screenshots/, the key replaced by a placeholder.
"""

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.harness import screenshot, sign_in
from tests.factories import make_user, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

INTEGRATION_AGENT = "zapier-integration/1.0"


@pytest.fixture
def person(transactional_db):
    return make_user(make_workspace("Browser Inc"), email="jane@example.com")


def _api(server, certificate, method, path, token, **kwargs):
    headers = {"Authorization": f"Bearer {token}", "User-Agent": INTEGRATION_AGENT}
    return requests.request(
        method, f"{server.url}{path}", headers=headers, verify=certificate[0], timeout=30, **kwargs
    )


def test_a_person_creates_uses_reviews_and_revokes_a_key(
    page, context, watch, tls_server, certificate, person, password
):
    page.goto("/")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    screenshot(page, "home-signed-out")
    page.goto("/login/")
    screenshot(page, "login")
    sign_in(page, person.email, password, path="/login/")
    expect(page.get_by_role("heading", name="ParsaLink")).to_be_visible()
    screenshot(page, "home")
    cookie = next(c for c in context.cookies() if c["name"] == "sessionid")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    # Go to Settings → API Keys; click Create API Key; give the key a name.
    page.get_by_role("link", name="API Keys").first.click()
    expect(page.get_by_role("heading", name="API Keys", exact=True)).to_be_visible()
    page.get_by_label("Name").fill("Zapier Integration")
    with page.expect_response(lambda r: r.request.method == "POST") as created:
        page.get_by_role("button", name="Create API Key").click()
    assert "no-store" in created.value.headers["cache-control"]
    shown = page.locator("#new-api-key")
    expect(shown).to_have_text(re.compile(r"^pk_live_\S+$"))
    expect(page.get_by_text("it is only shown once")).to_be_visible()

    # Copy the key: the copy button puts it on the clipboard.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tls_server.url)
    page.get_by_role("button", name="Copy the key").click()
    expect(page.get_by_role("status")).to_have_text("Copied to the clipboard.")
    plain = page.evaluate("navigator.clipboard.readText()")
    assert plain == shown.inner_text().strip()
    screenshot(page, "api-key-created", redact=("#new-api-key",), secrets=(plain,))

    # The key works, and the call is in its usage log.
    assert _api(tls_server, certificate, "GET", "/api/contacts/", plain).status_code == 200
    page.get_by_role("link", name="I have copied it").click()
    assert plain not in page.content()
    screenshot(page, "api-keys", secrets=(plain,))
    page.get_by_role("link", name="Zapier Integration", exact=True).click()
    usage = page.get_by_role("row").filter(has_text="GET /api/contacts/")
    expect(usage).to_have_count(1)
    expect(usage).to_contain_text("200")
    expect(usage).to_contain_text(INTEGRATION_AGENT)
    expect(usage).to_contain_text("New address")
    screenshot(page, "api-key-usage", secrets=(plain,))

    # Find the key, and click Revoke (a confirmation first).
    page.get_by_role("link", name="API Keys").first.click()
    page.get_by_role("link", name="Revoke Zapier Integration").click()
    expect(page.get_by_text("stops working immediately")).to_be_visible()
    screenshot(page, "api-key-revoke")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("is revoked: it no longer works")).to_be_visible()

    # The key stops working immediately, and the attempt is marked in its log.
    assert _api(tls_server, certificate, "GET", "/api/contacts/", plain).status_code == 401
    page.get_by_role("link", name="Usage of Zapier Integration").click()
    attempt = page.get_by_role("row").filter(has_text="401")
    expect(attempt).to_contain_text("After revocation")
    screenshot(page, "api-key-usage-revoked", secrets=(plain,))

    page.get_by_role("link", name="Activity").click()
    page.get_by_label("Action").select_option("api_key.revoked")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="api_key.revoked")).to_have_count(1)
    screenshot(page, "activity", secrets=(plain,))

    watch.assert_clean(page)
    watch.assert_same_origin(tls_server.url)


def test_a_key_created_with_only_contacts_read_can_only_read_contacts(
    page, watch, tls_server, certificate, person, password
):
    sign_in(page, person.email, password, path="/login/")
    page.goto("/settings/api-keys/")
    for scope in ("contacts:read", "contacts:write", "activity:read"):
        expect(page.get_by_label(scope)).to_be_checked()
    page.get_by_label("Name", exact=True).fill("Read-only sync")
    page.get_by_label("contacts:write").uncheck()
    page.get_by_label("activity:read").uncheck()
    page.get_by_role("button", name="Create API Key").click()
    plain = page.locator("#new-api-key").inner_text().strip()

    assert _api(tls_server, certificate, "GET", "/api/contacts/", plain).status_code == 200
    refused = _api(
        tls_server, certificate, "POST", "/api/contacts/", plain, json={"firstName": "A"}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    page.get_by_role("link", name="I have copied it").click()
    row = page.get_by_role("row").filter(has_text="Read-only sync")
    expect(row).to_contain_text("contacts:read")
    expect(row).not_to_contain_text("contacts:write")
    page.get_by_role("link", name="Read-only sync", exact=True).click()
    expect(page.locator("#key-scopes")).to_have_text("contacts:read")
    screenshot(page, "api-key-settings", secrets=(plain,))
    watch.assert_clean(page)
    watch.assert_same_origin(tls_server.url)


def test_a_person_ends_a_session_started_by_an_api_login(
    page, watch, tls_server, certificate, person, password
):
    login = requests.post(
        f"{tls_server.url}/api/auth/login/",
        json={"email": person.email, "password": password},
        headers={"User-Agent": "sync-script/3.0"},
        verify=certificate[0],
        timeout=30,
    )
    access = login.json()["access"]
    assert _api(tls_server, certificate, "GET", "/api/auth/me/", access).status_code == 200

    sign_in(page, person.email, password, path="/login/")
    page.goto("/settings/sessions/")
    expect(page.get_by_text("This session")).to_have_count(1)
    api_session = page.get_by_role("row").filter(has_text="sync-script/3.0")
    expect(api_session).to_have_count(1)
    screenshot(page, "sessions")
    api_session.get_by_role("button", name=re.compile("End session")).click()
    expect(page.get_by_text("The session has ended")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="sync-script/3.0")).to_have_count(0)

    assert _api(tls_server, certificate, "GET", "/api/auth/me/", access).status_code == 401
    watch.assert_clean(page)


def test_the_pages_fit_a_phone_screen(browser, tls_server, person, password):
    context = browser.new_context(
        base_url=tls_server.url,
        ignore_https_errors=True,
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        sign_in(page, person.email, password, path="/login/")
        for path in ("/settings/api-keys/", "/settings/sessions/", "/settings/activity/"):
            page.goto(path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways at phone width ({overflow}px)"
        page.goto("/settings/api-keys/")
        screenshot(page, "api-keys-phone")
    finally:
        context.close()


def test_a_form_without_its_csrf_token_gets_a_readable_page(page, tls_server, person, password):
    sign_in(page, person.email, password, path="/login/")
    page.goto("/settings/api-keys/")
    form = page.get_by_role("form", name="Create API Key")
    form.locator("input[name=csrfmiddlewaretoken]").evaluate("el => el.remove()")
    page.get_by_label("Name").fill("No token")
    page.get_by_role("button", name="Create API Key").click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()


def test_the_create_form_works_from_the_keyboard_with_a_visible_focus(
    page, watch, tls_server, person, password
):
    sign_in(page, person.email, password, path="/login/")
    page.goto("/settings/api-keys/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.get_by_label("Name").focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.type("Keyboard key")
    for _ in ("Expires", "contacts:read", "contacts:write", "activity:read", "Allowed addresses"):
        page.keyboard.press("Tab")
    expect(page.get_by_label("Allowed addresses")).to_be_focused()
    page.keyboard.press("Tab")  # Create API Key
    expect(page.get_by_role("button", name="Create API Key")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#new-api-key")).to_have_text(re.compile(r"^pk_live_"))
    watch.assert_clean(page)
