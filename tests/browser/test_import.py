"""End-to-end in Chromium: an admin imports a CSV on /imports/ and watches it finish; a bad CSV gets its report.

The first test runs the import on a real Celery worker (devtools/workers.py), so the progress bar is
seen moving while the page polls; the second runs it in-process (eager tasks), which is enough to
show the row-numbered error report.  Both save a screenshot to docs/screenshots/.
"""

import re

import pytest
from playwright.sync_api import expect

from devtools.workers import Worker, choose_broker, producer_on
from jobs.models import Activity, ImportJob
from tests.support.factories import AccountFactory, PodFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 250_000


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path, monkeypatch):
    """Uploads (and the real worker's VAR_DIR) under a temporary folder, never the project's var/."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("UCE_VAR_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def admin(admin_user):
    admin_user.full_name = "Alex Morgan"
    admin_user.save()
    return admin_user


@pytest.fixture
def accounts(db):
    southeast = PodFactory(slug="southeast-us", name="Southeast US", timezone="America/New_York")
    dach = PodFactory(slug="dach", name="DACH", timezone="Europe/Berlin")
    for n in range(30):
        AccountFactory(external_id=f"ACC-{n}", name=f"Account {n}", pod=southeast if n % 3 else dach)


@pytest.fixture
def worker(tmp_path, var_dir):
    """A real worker, sharing this process's VAR_DIR (uploads) and database; tasks are sent to it."""
    broker = choose_broker(tmp_path)
    worker = Worker(broker, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        with producer_on(broker):
            yield worker
    finally:
        worker.stop()


def test_an_admin_uploads_a_csv_and_watches_it_finish(
    page, live_server, admin, accounts, worker, login, tmp_path, screenshot_path
):
    channels = ["digital", "in_person", "partner"]
    jobs = ["learn", "buy", "order_install", "adopt", "support"]
    path = tmp_path / "crm-activities-2026-q1.csv"
    with open(path, "w", encoding="utf-8") as file:
        file.write("external_id,occurred_at,account,job,channel,kind,minutes\n")
        for n in range(ROWS):
            day = 1 + n % 28
            file.write(
                f"CRM-{n},2026-02-{day:02d}T09:30:00-05:00,ACC-{n % 30},{jobs[n % 5]},{channels[n % 3]},call,{n % 60}\n"
            )

    login(page, live_server, "admin", "demo", next_path="/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import data")
    page.get_by_label("Kind of data").select_option("activities")
    page.get_by_label("CSV file", exact=True).set_input_files(path)
    # Straight in, without the preview (checked by default): the bar of the import itself.
    page.get_by_label(re.compile("show a preview before anything is written")).uncheck()
    page.get_by_role("button", name="Upload", exact=True).click()

    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    progress = page.locator("#import-progress")
    # The page polls its progress partial every second: the bar fills while the worker reads the file.
    expect(progress).to_have_attribute("data-status", "running", timeout=30_000)
    checking = progress.get_by_text(re.compile(r"Checked [\d,]+ of 250,000 rows"))
    writing = progress.get_by_text("All 250,000 rows checked; writing them…")
    expect(checking.or_(writing)).to_be_visible()
    page.screenshot(path=screenshot_path("import-progress.png"))
    # Text and bar read in one snapshot: the page swaps the partial every second, and between two separate
    # reads it may move from checking to writing.
    text, value = progress.evaluate(
        "el => [el.textContent, el.querySelector('progress') && el.querySelector('progress').getAttribute('value')]"
    )
    if re.search(r"Checked [\d,]+ of 250,000 rows", text):
        assert 0 < int(value) < ROWS
    elif "All 250,000 rows checked; writing them" in text:
        assert value is None  # one statement writes every row: no figure to show

    expect(progress.get_by_text("250,000 rows imported")).to_be_visible(timeout=120_000)
    expect(progress).to_have_attribute("data-status", "succeeded")
    assert progress.locator("progress").get_attribute("value") == str(ROWS)
    assert progress.get_attribute("hx-trigger") is None  # polling has stopped
    assert Activity.objects.filter(external_id__startswith="CRM-").count() == ROWS

    page.get_by_role("link", name="Import another file").click()
    recent = page.get_by_role("table").locator("tbody tr").first
    expect(recent).to_contain_text("Activities")
    expect(recent).to_contain_text("Imported")
    expect(recent).to_contain_text("250,000")


def test_a_bad_csv_shows_the_row_numbered_error_report(
    page, live_server, admin, accounts, login, tmp_path, screenshot_path
):
    path = tmp_path / "leads-export.csv"
    path.write_text(
        "external_id,account,created_at,channel,status,decided_at,rejection_reason\n"
        "L-1,ACC-1,2026-03-01T10:00:00-05:00,digital,accepted,2026-03-03T10:00:00-05:00,\n"
        "L-2,ACC-404,2026-03-02T10:00:00-05:00,partner,rejected,2026-03-04T09:00:00-05:00,No budget\n"
        "L-3,ACC-2,2026-03-02 10:00:00,digital,open,,\n"
        "L-4,ACC-3,2026-03-05T10:00:00-05:00,email,accepted,2026-03-04T10:00:00-05:00,\n"
        "L-1,ACC-4,2026-03-06T10:00:00-05:00,digital,rejected,,Too small\n",
        encoding="utf-8",
    )
    login(page, live_server, "admin", "demo", next_path="/imports/")
    page.get_by_label("Kind of data").select_option("leads")
    page.get_by_label("CSV file", exact=True).set_input_files(path)
    page.get_by_role("button", name="Upload", exact=True).click()  # checked first (the default): same report

    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("data-status", "failed")
    expect(progress.get_by_text("Nothing was imported:")).to_be_visible()
    expect(progress.get_by_text("found while checking it")).to_be_visible()
    expect(progress.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    rows = progress.locator("table.error-report tbody tr")
    cells = [row.locator("td").all_inner_texts()[:2] for row in rows.all()]
    assert cells == [
        ["3", "account"],
        ["4", "created_at"],
        ["5", "channel"],
        ["5", "decided_at"],
        ["6", "external_id"],
        ["6", "decided_at"],
    ]
    expect(rows.nth(0)).to_contain_text('Unknown account "ACC-404".')
    page.screenshot(path=screenshot_path("import-errors.png"), full_page=True)
    assert ImportJob.objects.get().status == "failed"
    assert not Activity.objects.exists()


def test_a_hubspot_export_is_previewed_as_stored_then_confirmed(page, live_server, admin, login, screenshot_path):
    from pathlib import Path

    from jobs.models import Opportunity

    pod = PodFactory(slug="west", name="West", timezone="America/Los_Angeles")
    for external_id in ("9001", "9002"):
        AccountFactory(external_id=external_id, name=f"Company {external_id}", pod=pod)
    export = Path(__file__).resolve().parents[2] / "docs" / "examples" / "hubspot-deals.csv"
    login(page, live_server, "admin", "demo", next_path="/imports/")
    page.get_by_label("Kind of data").select_option("opportunities")
    page.get_by_label("CSV file", exact=True).set_input_files(export)
    page.get_by_label("Format").select_option("hubspot")
    page.get_by_label("Time zone of the export").fill("America/Los_Angeles")
    page.get_by_role("button", name="Upload", exact=True).click()

    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("data-status", "checked")
    expect(progress.get_by_text("Nothing has been written yet")).to_be_visible()
    preview = progress.locator("table.preview-table")
    expect(preview.locator("caption")).to_contain_text("mapping hubspot-deal")
    header = [text.strip() for text in preview.locator("thead th").all_text_contents()]
    assert header[:4] == ["Export line", "external_id", "account", "name"]
    first = preview.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first[:3] == ["2", "18000000001", "9001"]  # "9001;9002": the first company
    assert not Opportunity.objects.exists()
    page.screenshot(path=screenshot_path("import-preview.png"), full_page=True)

    page.get_by_role("button", name=re.compile(r"^Import \d+ rows?$")).click()
    expect(progress).to_have_attribute("data-status", "succeeded")
    expect(progress.get_by_text(re.compile(r"\d+ rows? imported"))).to_be_visible()
    assert Opportunity.objects.filter(account__external_id="9001").exists()


def test_an_admin_copies_a_mapping_and_a_bad_translation_is_shown_on_its_field(
    page, live_server, admin, login, screenshot_path
):
    from jobs.models import SavedMapping

    login(page, live_server, "admin", "demo", next_path="/imports/")
    page.get_by_role("link", name="CRM mappings").click()
    expect(page.get_by_text("No mappings of your own yet")).to_be_visible()
    page.get_by_role("link", name="Copy salesforce-opportunity").click()
    translations = page.locator("#id_status__values")
    translations.fill(translations.input_value() + "\nStalled = paused")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    field = page.locator('[data-field="status__values"]')
    expect(field.locator(".field-error")).to_contain_text('"Stalled" translates to a value our format refuses')
    expect(page.locator("#id_status__values")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=screenshot_path("mapping-form-error.png"), full_page=True)
    assert not SavedMapping.objects.exists()

    value = page.locator("#id_status__values").input_value().replace("Stalled = paused", "Stalled = open")
    page.locator("#id_status__values").fill(value)
    page.get_by_label("Name", exact=True).fill("acme-opportunity")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Saved mapping acme-opportunity")).to_be_visible()
    expect(page.get_by_role("link", name="acme-opportunity")).to_be_visible()
    page.screenshot(path=screenshot_path("mappings.png"), full_page=True)
    assert SavedMapping.objects.get().definition["fields"]["status"]["values"]["Stalled"] == "open"
