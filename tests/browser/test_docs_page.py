"""The API docs in a real browser over TLS: they render from this origin alone, under its CSP."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_render_from_this_origin_alone(page, watch, tls_server):
    response = page.goto("/api/docs/")

    assert response.status == 200
    watch.assert_same_origin(tls_server.url)  # the page's own assets
    # The title comes from the schema: only a renderer that fetched and parsed it shows it.
    expect(page.get_by_role("heading", name=re.compile(r"^ParsaLink API"))).to_be_visible()
    watch.assert_same_origin(tls_server.url)  # and what the renderer loads once it runs
    watch.assert_clean(page)
    assert response.headers.get("content-security-policy"), "no Content-Security-Policy header"
    screenshot(page, "api-docs")
