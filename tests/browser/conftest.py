"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Playwright cannot download its own browsers here, so the tests launch ``/usr/bin/chromium``
(``make chromium`` installs it).  A missing browser fails the run: these tests never skip.
Each test gets a fresh browser context; every console error and every failed request on the
page fails the test at teardown, so a broken asset or script cannot hide behind a green run.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}
ROOT = Path(__file__).resolve().parents[2]
# Screenshots land in test-results/ (git-ignored); UCE_UPDATE_SCREENSHOTS=1 writes the committed
# ones in docs/screenshots/ instead, for a deliberate refresh of the documentation.
SCREENSHOTS = ROOT / (
    "docs/screenshots" if os.environ.get("UCE_UPDATE_SCREENSHOTS") == "1" else "test-results/screenshots"
)


@dataclass
class PageProblems:
    """What went wrong on the page while a test drove it."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="package")
def browser():
    """One Chromium for every test of this package, stopped before the rest of the suite runs.

    While Playwright's sync API is alive, its event loop counts as running in this thread, so Django
    refuses ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set.  The variable is set only for that
    time: package scope (not session) stops Playwright after the last browser test, so later tests
    neither need it nor pass it on to the subprocesses they start (``check --deploy`` rejects it).
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`make chromium`) to run the browser tests.")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def page_problems():
    return PageProblems()


@pytest.fixture
def page(browser, page_problems):
    """A page in a fresh context (no cookies shared between tests), watched for errors."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: msg.type == "error" and page_problems.console_errors.append(msg.text))
    page.on("pageerror", lambda error: page_problems.console_errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda req: page_problems.failed_requests.append(f"{req.url} ({req.failure})"))
    page.on(
        "response",
        lambda resp: resp.status >= 400 and page_problems.failed_requests.append(f"{resp.url} (HTTP {resp.status})"),
    )
    yield page
    context.close()
    assert page_problems.console_errors == [], "console errors on the page"
    assert page_problems.failed_requests == [], "failed requests on the page"


def _login(page, live_server, username: str, password: str, next_path: str = "/") -> None:
    """Sign in through the real login form, as a person would, and wait for the landing page."""
    page.goto(f"{live_server.url}/auth/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}{next_path}")


@pytest.fixture
def login():
    """``login(page, live_server, username, password)``: sign in through the login form."""
    return _login


@pytest.fixture
def screenshot_path():
    """Where a test saves a screenshot (see SCREENSHOTS; the folder is created on demand)."""

    def path(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS / name

    return path
