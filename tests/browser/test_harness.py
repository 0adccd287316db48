"""The harness itself, in the real browser: the watch sees what it must, shots show no secret."""

import pytest

from tests.browser.harness import PLACEHOLDER, screenshot

pytestmark = pytest.mark.django_db

ORIGIN = "https://harness.test"
SECRET = "pk_live_01JSECRETSECRETSECRETSECRET"


@pytest.fixture
def browser_context_args() -> dict:
    return {}  # no server: each test serves its page through the browser's own routing


def serve(page, body: str, headers: dict[str, str] | None = None) -> None:
    headers = {"Content-Type": "text/html", **(headers or {})}
    page.route(f"{ORIGIN}/", lambda route: route.fulfill(body=body, headers=headers))
    page.goto(f"{ORIGIN}/")


@pytest.mark.parametrize(
    "header, disposition",
    [("Content-Security-Policy", "enforce"), ("Content-Security-Policy-Report-Only", "report")],
)
def test_the_watch_reports_errors_csp_violations_and_foreign_requests(
    page, context, watch, header, disposition
):
    serve(
        page,
        '<img src="https://cdn.example.invalid/pixel.png"><script>window.ran = true</script>',
        {header: "script-src 'none'"},
    )
    page.evaluate("console.error('boom')")
    with context.expect_event("weberror"):
        page.evaluate("setTimeout(() => { throw new Error('kaboom') })")

    with pytest.raises(AssertionError, match="the browser reported problems"):
        watch.assert_clean(page)
    assert any(error.startswith("boom") for error in watch.console_errors)
    assert any("kaboom" in error for error in watch.page_errors)
    assert [(v["directive"], v["blockedURI"], v["disposition"]) for v in watch.csp_violations] == [
        ("script-src-elem", "inline", disposition)
    ]
    with pytest.raises(AssertionError, match=r"cdn\.example\.invalid"):
        watch.assert_same_origin(ORIGIN)


def test_a_clean_page_passes_the_watch(page, watch):
    serve(page, "<h1>Fine</h1>", {"Content-Security-Policy": "default-src 'self'"})

    watch.assert_clean(page)
    watch.assert_same_origin(ORIGIN)


def test_a_screenshot_shows_the_placeholder_instead_of_the_secret(page, tmp_path):
    serve(page, f'<p>Your key:</p><code id="new-api-key">{SECRET}</code><input value="{SECRET}">')

    path = screenshot(
        page, "show-once", redact=("#new-api-key", "input"), secrets=(SECRET,), directory=tmp_path
    )

    assert path.read_bytes().startswith(b"\x89PNG")
    assert page.locator("#new-api-key").inner_text() == PLACEHOLDER
    assert page.locator("input").input_value() == PLACEHOLDER


@pytest.mark.parametrize(
    "body, redact",
    [
        pytest.param(
            f"<p>{SECRET}</p><code id='new-api-key'>…</code>", "#new-api-key", id="elsewhere"
        ),
        pytest.param(f"<code id='key'>{SECRET}</code>", "#new-api-key", id="matching-nothing"),
    ],
)
def test_a_screenshot_is_refused_while_the_secret_could_show(page, tmp_path, body, redact):
    serve(page, body)

    with pytest.raises(AssertionError, match="refusing a screenshot"):
        screenshot(page, "leak", redact=(redact,), secrets=(SECRET,), directory=tmp_path)
    assert not list(tmp_path.iterdir())
