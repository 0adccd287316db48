"""HTML pages come from this origin alone, under a Content-Security-Policy (docs, admin)."""

import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
import requests

from tests.live_server import ROOT, GunicornServer

PAGES = ["/api/docs/", "/admin/login/"]


class _References(HTMLParser):
    """Every URL an HTML page makes the browser load or call (src, href, spec-url, action)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"src", "href", "spec-url", "action"} and value:
                self.urls.append(value)


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


def directives(policy: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES, "/api/schema/", "/api/no-such-page/"])
def test_every_page_carries_a_same_origin_policy(api_client, path):
    response = api_client.get(path)
    assert response.status_code in {200, 404}
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no CDN, no eval
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    for values in policy.values():
        assert not any(re.match(r"https?:|\*", value) for value in values), policy


@pytest.mark.django_db
def test_the_docs_page_needs_no_inline_script_or_style(api_client):
    docs = directives(api_client.get("/api/docs/")["Content-Security-Policy"])
    admin = directives(api_client.get("/admin/login/")["Content-Security-Policy"])
    assert docs == admin
    assert docs["script-src"] == ["'self'"] and docs["style-src"] == ["'self'"]
    html = api_client.get("/api/docs/").content.decode()
    assert "<script>" not in html and "<style" not in html


@pytest.mark.django_db
def test_the_docs_start_up_script_is_a_same_origin_script(api_client):
    response = api_client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_pages_reference_only_this_origin(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    urls = references(html)
    assert urls, html[:500]
    for url in urls:
        assert url.startswith(("/", "#")) and not url.startswith("//"), url
    assert "googleapis" not in html and "jsdelivr" not in html


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> str:
    """collectstatic as the Docker image runs it, into a directory of this test's own."""
    static_root = str(tmp_path_factory.mktemp("static"))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env={**GunicornServer().env, "STATIC_ROOT": static_root},
        check=True,
        capture_output=True,
        timeout=300,
    )
    return static_root


@pytest.mark.django_db(transaction=True)
def test_docs_and_admin_assets_are_served_by_whitenoise_with_debug_off(collected_static):
    proxied = {"X-Forwarded-Proto": "https"}
    env = {"FORWARDED_ALLOW_IPS": "127.0.0.1", "STATIC_ROOT": collected_static}
    with GunicornServer(env=env) as server:
        pages = {path: requests.get(f"{server.url}{path}", headers=proxied) for path in PAGES}
        assets = {
            url: requests.get(f"{server.url}{url}", headers=proxied)
            for page in pages.values()
            for url in references(page.text)
            if url.startswith("/static/")
        }
        schema = requests.get(f"{server.url}/api/schema/", headers=proxied)
    for path, page in pages.items():
        assert page.status_code == 200, path
        assert "Content-Security-Policy" in page.headers, path
    bundle = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert bundle in assets
    assert any(url.startswith("/static/admin/css/") for url in assets)
    for url, asset in assets.items():
        assert asset.status_code == 200, url
        assert asset.headers["Content-Type"].split(";")[0] in {
            "text/javascript",
            "application/javascript",
            "text/css",
            "image/svg+xml",
            "image/png",
        }, (url, asset.headers["Content-Type"])
    assert len(assets[bundle].content) > 500_000  # the real bundle, not an error page
    assert schema.status_code == 200 and b"openapi" in schema.content
