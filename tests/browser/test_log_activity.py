"""End-to-end in Chromium: a staff member logs an activity with the keyboard alone.

They search the account, pick it with the arrow keys and Enter, fill the form, submit it with a
mistake, see the error with focus on it, fix it, submit again and find the activity at the top of
"My recent activities".  The final page is saved to docs/screenshots/log-activity.png.
"""

import datetime as dt

import pytest
from playwright.sync_api import expect

from jobs.models import Activity
from tests.support.factories import AccountFactory, ActivityFactory, AssignmentFactory, ContactFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def tab_to(page, element_id: str, limit: int = 15) -> None:
    """Press Tab until ``element_id`` has focus (a datetime-local input takes several Tabs)."""
    for _ in range(limit):
        if focused_id(page) == element_id:
            return
        page.keyboard.press("Tab")
    assert focused_id(page) == element_id, f"Tab never reached #{element_id}"


@pytest.fixture
def maria(pod_a, pod_b):
    """A Learn staff member of Southeast US with a few activities already logged, and accounts in both pods."""
    pod_a.territory = "US-FL US-GA US-AL US-SC"
    pod_a.save()
    person = UserFactory(username="maria", full_name="Maria Lopez")
    AssignmentFactory(person=person, pod=pod_a, job="learn")
    acme = AccountFactory(pod=pod_a, name="Acme Tools", external_id="SE-ACME")
    logistics = AccountFactory(pod=pod_a, name="Acme Logistics", external_id="SE-ACLOG")
    sunrise = AccountFactory(pod=pod_a, name="Sunrise Health", external_id="SE-SUN")
    AccountFactory(pod=pod_b, name="Acme GmbH", external_id="DE-ACME")  # another pod: never offered
    ContactFactory(account=acme, name="Ann Archer", persona="champion")
    ContactFactory(account=acme, name="Eli Stone", persona="executive")
    ann_sun = ContactFactory(account=sunrise, name="Priya Nair", persona="end_user")
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    earlier = [
        (logistics, "learn", "digital", "webinar", None, 60, "Joined the Q3 product webinar"),
        (sunrise, "learn", "in_person", "call", ann_sun, 25, "Discovery call: scheduling pain points"),
        (acme, "buy", "in_person", "proposal", None, 90, "Sent proposal for 120 seats"),
        (sunrise, "adopt", "digital", "training", ann_sun, 45, ""),
        (logistics, "support", "partner", "health_check", None, None, "Partner-led quarterly check"),
    ]
    for hours, (account, job, channel, kind, contact, minutes, notes) in enumerate(earlier, start=1):
        ActivityFactory(
            account=account,
            staff=person,
            job=job,
            channel=channel,
            kind=kind,
            contact=contact,
            minutes=minutes,
            notes=notes,
            occurred_at=now - dt.timedelta(hours=5 * hours),
        )
    return person


def test_staff_logs_an_activity_with_the_keyboard_alone(page, live_server, login, maria, screenshot_path):
    login(page, live_server, "maria", "demo", next_path="/activities/")
    assert page.get_by_role("heading", level=1).inner_text() == "Log activity"
    # The form is ready for typing: focus starts in the account search box.
    assert focused_id(page) == "id_account_search"
    form = page.get_by_role("form", name="New activity")

    page.keyboard.type("acme")
    listbox = page.get_by_role("listbox", name="Matching accounts")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)  # the Acme of the other pod is not offered
    assert options.all_inner_texts()[0].startswith("Acme Logistics")
    search = form.get_by_role("combobox", name="Account")
    expect(search).to_have_attribute("aria-expanded", "true")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(search).to_have_value("Acme Tools (SE-ACME)")
    expect(listbox).to_be_hidden()
    assert focused_id(page) == "id_account_search"
    # Choosing the account loads its contacts.
    contact = form.get_by_label("Contact")
    expect(contact).to_be_enabled()
    expect(contact.locator("option")).to_have_count(3)

    page.keyboard.press("Tab")
    assert focused_id(page) == "id_job"
    expect(form.get_by_label("Buying job")).to_have_value("learn")  # Maria's job, preselected
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_channel"
    page.keyboard.type("In person")
    expect(form.get_by_label("Channel")).to_have_value("in_person")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_kind"
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_contact"
    page.keyboard.type("Ann")
    expect(contact.locator("option:checked")).to_have_text("Ann Archer · Champion")
    tab_to(page, "id_minutes")  # past the date and time of "When", left at "now"
    page.keyboard.type("-5")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_notes"
    page.keyboard.type("Walked through the onboarding plan")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Log activity"
    page.keyboard.press("Enter")

    # The error is shown inline, focus is on the field in error, and nothing typed is lost.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Minutes: Must be 0 or more.")
    expect(page.locator("#minutes-error")).to_have_text("Must be 0 or more.")
    expect(page.locator("#id_minutes")).to_be_focused()  # polls without eval: the page's CSP forbids it
    expect(form.get_by_label("Minutes")).to_have_attribute("aria-invalid", "true")
    expect(search).to_have_value("Acme Tools (SE-ACME)")
    expect(form.get_by_label("Kind")).to_have_value("demo")
    expect(form.get_by_label("Channel")).to_have_value("in_person")
    expect(contact.locator("option:checked")).to_have_text("Ann Archer · Champion")
    expect(form.get_by_label("Notes")).to_have_value("Walked through the onboarding plan")
    assert not Activity.objects.filter(kind="demo").exists()

    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Log activity"
    page.keyboard.press("Enter")

    # Saved: a confirmation, a fresh form with focus back in the search box, the activity on top.
    expect(page.locator("#messages")).to_contain_text("Activity logged: demo for Acme Tools.")
    expect(page.locator("#id_account_search")).to_be_focused()
    expect(search).to_have_value("")
    expect(form.get_by_label("Minutes")).to_have_value("")
    expect(page.get_by_role("alert")).to_have_count(0)
    first_row = page.locator("#recent-activities tbody tr").first
    expect(first_row).to_contain_text("Acme Tools")
    expect(first_row).to_contain_text("demo")
    expect(first_row).to_contain_text("In person")
    expect(first_row).to_contain_text("Ann Archer")
    expect(first_row).to_contain_text("30")
    expect(page.locator("#recent-activities tbody tr")).to_have_count(6)

    saved = Activity.objects.get(kind="demo")
    assert (saved.staff, saved.account.external_id, saved.minutes, saved.job) == (maria, "SE-ACME", 30, "learn")
    assert saved.pod.slug == "southeast-us"
    assert abs(saved.occurred_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=3)

    # The "Saving…" indicator has faded out again.
    expect(form.locator(".htmx-indicator")).to_have_css("opacity", "0")
    page.mouse.move(0, 0)
    page.screenshot(path=screenshot_path("log-activity.png"), full_page=True)


def test_delete_asks_for_confirmation_in_place_and_works_by_keyboard(page, live_server, login, maria):
    login(page, live_server, "maria", "demo", next_path="/activities/")
    rows = page.locator("#recent-activities tbody tr")
    expect(rows).to_have_count(5)
    first = rows.first
    doomed_text = first.inner_text()
    first.get_by_role("link", name="Delete").focus()
    page.keyboard.press("Enter")

    confirm = page.get_by_role("button", name="Delete activity")
    expect(confirm).to_be_focused()
    expect(page.locator(".confirm-row")).to_contain_text("Delete this activity?")
    assert Activity.objects.count() == 5
    page.keyboard.press("Enter")

    expect(rows).to_have_count(4)
    expect(page.locator("#messages")).to_contain_text("Activity deleted")
    expect(page.locator("#recent-heading")).to_be_focused()
    assert Activity.objects.count() == 4
    assert doomed_text not in page.locator("#recent-activities").inner_text()
