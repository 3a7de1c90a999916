"""Screenshots of the dashboard pages for docs/screenshots/, taken from a running server with the demo data.

It starts nothing itself.  Seed and compute first, start a server, then point this script at it::

    python manage.py seed_demo && python manage.py compute_metrics --full
    python manage.py runserver 127.0.0.1:8000 &
    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000

It signs in as the demo pod leader (``leader`` / ``demo``) for the pod and account pages, and as the
demo admin for the comparison, which then shows every pod.
"""

import argparse
import email
import email.policy
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1366, "height": 900}


def wait_for_charts(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every(c => window.Chart && Chart.getChart(c))"
    )


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/auth/login/?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def latest_digest_html(directory: Path) -> str | None:
    """The HTML part of the newest digest written by Django's file mail backend under ``directory``."""
    for path in sorted(directory.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        for message in _messages(path.read_bytes()):
            if "weekly digest" in message.get_body(("plain",)).get_content():
                return message.get_body(("html",)).get_content()
    return None


def _messages(raw: bytes):
    """The file backend appends messages to one file, each followed by a line of 79 dashes."""
    for chunk in raw.split(b"\n" + b"-" * 79 + b"\n"):
        if chunk.strip():
            yield email.message_from_bytes(chunk.strip(), policy=email.policy.default)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--pod", default="southeast-us")
    parser.add_argument("--username", default="leader")
    parser.add_argument("--admin-username", default="admin", help="signs in for the comparison of every pod")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--mail-dir", default=str(OUT.parents[1] / "var" / "mail"), help="where make run writes mail")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_context(viewport=VIEWPORT, locale="en-US").new_page()
        sign_in(page, base, args.username, args.password)
        page.screenshot(path=OUT / "home.png", full_page=True)

        page.goto(f"{base}/pods/{args.pod}/")
        wait_for_charts(page)
        page.screenshot(path=OUT / "dashboard-month.png", full_page=True)
        # Qualifying in and out beside persona coverage: the two panels, close up.
        page.locator("#qualifying").locator("xpath=..").screenshot(path=OUT / "qualifying-personas.png")
        # The accounts to call, sorted by engagement (an htmx swap of the list alone).
        page.locator("#engaged-accounts th a", has_text="Engagement").click()
        page.wait_for_selector("#engaged-accounts th[aria-sort] >> text=Engagement")
        page.locator("#engaged-accounts").screenshot(path=OUT / "accounts-to-call.png")

        page.get_by_label("Grain").select_option("quarter")
        page.wait_for_url(re.compile(r"grain=quarter"))
        wait_for_charts(page)
        page.screenshot(path=OUT / "dashboard-quarter.png", full_page=True)

        # The records behind the quarter's bookings.
        page.locator('[data-kpi="bookings"] .kpi-value').click()
        page.wait_for_url(re.compile(r"/drilldown/bookings/"))
        page.screenshot(path=OUT / "drilldown.png", full_page=True)

        # The account behind the first of those records: its journey, personas, open work and staff.
        page.locator("table[data-drilldown] td a").first.click()
        page.wait_for_url(re.compile(r"/accounts/[^/]+/$"))
        page.screenshot(path=OUT / "account.png", full_page=True)
        page.locator("#engagement summary").click()  # the weights, opened
        page.locator("#engagement").screenshot(path=OUT / "account-engagement.png")
        page.locator("#propensity").screenshot(path=OUT / "account-propensity.png")

        # Finding an account from the search box of the header.
        page.get_by_label("Find an account").first.fill("freight")
        page.get_by_label("Find an account").first.press("Enter")
        page.wait_for_url(re.compile(r"/accounts/\?q=freight"))
        page.screenshot(path=OUT / "account-search.png", full_page=True)

        # Alerts: the notifications behind the bell, the subscriptions page, a rule refused with its error.
        page.goto(f"{base}/alerts/")
        page.screenshot(path=OUT / "alerts-notifications.png", full_page=True)
        page.goto(f"{base}/alerts/subscriptions/")
        page.screenshot(path=OUT / "alerts-subscriptions.png", full_page=True)
        page.goto(f"{base}/alerts/pods/{args.pod}/rules/new/")
        page.get_by_label("Metric").select_option("win_rate")
        page.get_by_label("Condition").select_option("moves_by")
        page.get_by_label("Smallest move (%)").fill("-5")
        page.get_by_role("button", name="Save alert").click()
        page.screenshot(path=OUT / "alerts-rule-error.png", full_page=True)
        digest = latest_digest_html(Path(args.mail_dir))
        if digest is not None:  # the newest digest written by `send_digests` (make run), as a mail client shows it
            mail = browser.new_context(viewport={"width": 760, "height": 900}, locale="en-US").new_page()
            mail.set_content(digest)
            mail.screenshot(path=OUT / "digest-email.png", full_page=True)

        # Every demo pod side by side, as an admin sees them.
        page = browser.new_context(viewport=VIEWPORT, locale="en-US").new_page()
        sign_in(page, base, args.admin_username, args.password)
        page.goto(f"{base}/pods/compare/?sort=bookings&dir=desc")
        page.screenshot(path=OUT / "compare.png", full_page=True)
        # The propensity model's calibration, which only admins read.
        page.goto(f"{base}/pods/propensity/")
        page.screenshot(path=OUT / "propensity-calibration.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
