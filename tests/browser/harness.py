"""Real-browser helpers: Debian's chromium driven by Playwright, watched for errors, screenshots.

The browser is Debian's own `chromium` (`.ci/run` installs it), launched by Playwright through
`executable_path`: Playwright never downloads a browser here. What a test gets from this module:

- `PageWatch`: every console error, uncaught page exception, Content-Security-Policy violation
  (`securitypolicyviolation` events, report-only ones included) and request of a browser context,
  so a test can assert there were none and that every request stayed on the server's origin.
- `sign_in`: the sign-in form of the admin (later `/login/`), found by its labels as a person would.
- `screenshot`: a PNG under `docs/screenshots/`, with secret elements' text replaced first:

      screenshot(page, "api-key-created", redact=("#new-api-key",), secrets=(key.plain,))

CHROMIUM in the environment names another chromium binary (default: Debian's /usr/bin/chromium).
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request

from tests.live_server import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
ADMIN_LOGIN = "/admin/login/"
PLACEHOLDER = "•••••••• hidden in this screenshot ••••••••"
# Generous for two CPU cores shared with other test runs; a wait ends once its condition holds.
TIMEOUT_MS = 30_000

# Runs in every frame before the page's own scripts, so no violation can happen unobserved; each
# report is a promise that settles once the test process has it.
_CSP_LISTENER = """
(() => {
  const reports = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    reports.push(window.__parsalinkCspViolation({
      directive: event.effectiveDirective,
      blockedURI: event.blockedURI,
      sourceFile: event.sourceFile,
      line: event.lineNumber,
      disposition: event.disposition,
      sample: event.sample,
    }));
  }, true);
  window.__parsalinkCspReported = () => Promise.all(reports);
})();
"""
# One task later (violation events are queued as tasks), every report of this document delivered.
_CSP_SETTLE = """
() => new Promise((resolve) => setTimeout(resolve, 0))
  .then(() => window.__parsalinkCspReported && window.__parsalinkCspReported())
"""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_favicon_probe(message: ConsoleMessage) -> bool:
    """Chromium asks every origin for /favicon.ico on its own; no page asked for it."""
    url = message.location.get("url", "")
    return urlsplit(url).path == "/favicon.ico" and message.text.startswith(
        "Failed to load resource"
    )


@dataclass
class PageWatch:
    """What the pages of one browser context did wrong, collected as it happens."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[dict] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, context: BrowserContext) -> "PageWatch":
        watch = cls()
        context.expose_binding(
            "__parsalinkCspViolation", lambda _source, report: watch.csp_violations.append(report)
        )
        context.add_init_script(_CSP_LISTENER)
        context.on("console", watch._on_console)
        context.on("weberror", lambda web_error: watch.page_errors.append(str(web_error.error)))
        context.on("request", watch._on_request)
        return watch

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not _is_favicon_probe(message):
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def settle(self, page: Page) -> None:
        """Let the violation reports the page has already sent reach this watch."""
        page.evaluate(_CSP_SETTLE)

    def assert_clean(self, page: Page) -> None:
        """No console error, no uncaught exception and no CSP violation on any page so far."""
        self.settle(page)
        problems = {
            "console errors": self.console_errors,
            "uncaught exceptions": self.page_errors,
            "CSP violations": self.csp_violations,
        }
        found = {name: items for name, items in problems.items() if items}
        assert not found, f"the browser reported problems: {found}"

    def assert_same_origin(self, origin: str) -> None:
        """Every request went to `origin`: no third-party script, style, font or image."""
        elsewhere = [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and origin_of(url) != origin
        ]
        assert not elsewhere, f"requests left {origin}: {elsewhere}"


def sign_in(page: Page, email: str, password: str, *, path: str = ADMIN_LOGIN) -> None:
    """Sign in through the form at `path`, found by its labels; fails with the page's answer.

    A redirect is a sign-in; any other answer to the form's POST is a refusal.
    """
    page.goto(path)
    page.get_by_label(re.compile("email", re.IGNORECASE)).fill(email)
    page.get_by_label(re.compile("password", re.IGNORECASE)).fill(password)
    with page.expect_response(
        lambda response: response.request.method == "POST" and urlsplit(response.url).path == path
    ) as posted:
        page.get_by_role("button", name=re.compile(r"log in|sign in", re.IGNORECASE)).click()
    answer = posted.value
    if not 300 <= answer.status < 400:
        text = " ".join(re.sub(r"<[^>]*>", " ", answer.text()).split())
        raise AssertionError(f"sign-in refused ({answer.status}): {text[:1000]}")
    page.wait_for_url(lambda url: urlsplit(url).path != path)


def _visible_text(page: Page) -> str:
    """What a screenshot can show: the rendered text and every form field's value."""
    return page.evaluate(
        """() => [document.body.innerText,
                  ...Array.from(document.querySelectorAll("input, textarea"), (el) => el.value)]
                 .join("\\n")"""
    )


def screenshot(
    page: Page,
    name: str,
    *,
    redact: tuple[str, ...] = (),
    secrets: tuple[str, ...] = (),
    directory: Path = SCREENSHOTS,
) -> Path:
    """Save the whole page as `<directory>/<name>.png`.

    Every element matching a `redact` selector (there must be one) shows PLACEHOLDER instead of its
    text or value; the shot is refused if any of `secrets` is still visible after that.
    """
    for selector in redact:
        elements = page.locator(selector)
        if not elements.count():
            raise AssertionError(f"refusing a screenshot of {name}: nothing matches {selector!r}")
        elements.evaluate_all(
            """(elements, placeholder) => elements.forEach((el) => {
                 if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
                   el.value = placeholder;
                 } else {
                   el.textContent = placeholder;
                 }
               })""",
            PLACEHOLDER,
        )
    shown = _visible_text(page)
    leaked = [secret for secret in secrets if secret in shown]
    if leaked:
        raise AssertionError(f"refusing a screenshot of {name}: a secret is still visible")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    return path
