"""The operators' admin in a real browser over TLS: a staff user signs in and nothing goes wrong."""

import pytest
from playwright.sync_api import expect

from tests.browser.harness import ADMIN_LOGIN, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_staff_user_signs_in_to_the_admin(page, context, watch, tls_server, staff_user, password):
    page.goto(ADMIN_LOGIN)
    expect(page.get_by_label("Password")).to_be_visible()
    screenshot(page, "admin-login")

    sign_in(page, staff_user.email, password)

    expect(page).to_have_url(f"{tls_server.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    screenshot(page, "admin-index")
    watch.assert_clean(page)
    watch.assert_same_origin(tls_server.url)
    session = next(c for c in context.cookies() if c["name"] == "sessionid")
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Lax"


def test_a_wrong_password_keeps_the_admin_closed(page, tls_server, staff_user):
    with pytest.raises(AssertionError, match="enter the correct email"):
        sign_in(page, staff_user.email, "not the password")

    page.goto("/admin/")
    expect(page).to_have_url(f"{tls_server.url}{ADMIN_LOGIN}?next=/admin/")
