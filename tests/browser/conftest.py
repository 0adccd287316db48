"""Browser-test fixtures: one chromium per session, a fresh context per test, a live TLS gunicorn.

    def test_it(page, watch, tls_server):      # the page's base URL is the server's
        page.goto("/admin/")
        watch.assert_clean(page)

A module that needs other context options overrides `browser_context_args` (a phone-width
viewport, or `{}` for no server at all). A test that needs other server settings calls
`start_tls_server(NAME="value")` instead of taking `tls_server`.

Playwright's sync API leaves its event loop marked as running in this thread between calls, and
Django refuses ORM calls while a loop runs (SynchronousOnlyOperation). So, from the moment the
browser starts, this process sets DJANGO_ALLOW_ASYNC_UNSAFE (never the live servers: they get it
empty) and the browser tests run after every other test, so that no other test runs while it is up.
"""

import os
import secrets
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.harness import CHROMIUM, TIMEOUT_MS, PageWatch
from tests.factories import make_user, make_workspace
from tests.live_server import ROOT, GunicornServer, make_certificate

BROWSER_TESTS = Path(__file__).resolve().parent
SERVER_ENV = {"DJANGO_ALLOW_ASYNC_UNSAFE": ""}
CONTEXT_DEFAULTS = {
    "ignore_https_errors": True,  # the certificate the test made for 127.0.0.1
    "viewport": {"width": 1280, "height": 800},
    "locale": "en-US",
    "timezone_id": "UTC",
    "color_scheme": "light",
    "reduced_motion": "reduce",
}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last, in their own order (a stable sort keeps every other order as it was)."""
    items.sort(key=lambda item: Path(item.path).resolve().is_relative_to(BROWSER_TESTS))


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no chromium at {CHROMIUM}: install Debian's (apt-get install chromium; .ci/run does)",
            pytrace=False,
        )
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, timeout=TIMEOUT_MS * 2
            )
            yield browser
            browser.close()
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="session")
def static_files() -> None:
    """Static files collected as the image collects them: with DEBUG off, only those are served."""
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(40)}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--clear", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[str, str]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def start_tls_server(transactional_db, certificate, static_files):
    """Start a gunicorn over TLS (DEBUG off, server defaults + `env`); it stops after the test."""
    certfile, keyfile = certificate
    with ExitStack() as servers:

        def start(**env: str) -> GunicornServer:
            server = GunicornServer(certfile=certfile, keyfile=keyfile, env={**SERVER_ENV, **env})
            return servers.enter_context(server)

        yield start


@pytest.fixture
def tls_server(start_tls_server) -> GunicornServer:
    return start_tls_server()


@pytest.fixture
def browser_context_args(tls_server) -> dict:
    return {"base_url": tls_server.url}


@pytest.fixture
def context(browser, browser_context_args):
    """A fresh browser context per test: its own cookies, storage and cache."""
    context = browser.new_context(**{**CONTEXT_DEFAULTS, **browser_context_args})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def watch(context) -> PageWatch:
    return PageWatch.attach(context)


@pytest.fixture
def page(context, watch):
    return context.new_page()


@pytest.fixture
def staff_user(transactional_db):
    """A committed staff user, so the live server sees it (its password: the `password` fixture)."""
    return make_user(
        make_workspace("Browser Inc"),
        email="staff@example.com",
        is_staff=True,
        is_superuser=True,
    )
