"""End-to-end in Chromium: a leader signs in with the keyboard and sees their pods; an admin reassigns people in bulk.

Both tests save screenshots (tests/browser/conftest.py SCREENSHOTS) so the pages can be reviewed as a person sees them.
"""

import datetime as dt

import pytest
from playwright.sync_api import expect

from pods.scoping import current_assignment_of
from tests.support.factories import AssignmentFactory, PodFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff(pod, job, username, full_name):
    return AssignmentFactory(pod=pod, job=job, person=UserFactory(username=username, full_name=full_name)).person


def card_names(page) -> list[str]:
    return page.locator("[data-pod] .pod-name").all_inner_texts()


def test_leader_signs_in_with_the_keyboard_and_sees_their_pods(
    page, live_server, leader_ab, pod_a, pod_b, screenshot_path
):
    leader_ab.full_name = "Jordan Reyes"
    leader_ab.save()
    pod_a.territory = "US-FL US-GA US-AL US-SC"
    pod_a.save()
    pod_b.territory = "DE AT CH"
    pod_b.save()
    nordics = PodFactory(slug="nordics", name="Nordics", territory="SE NO DK FI", timezone="Europe/Stockholm")
    staff(pod_a, "learn", "maria", "Maria Lopez")
    staff(pod_a, "learn", "dev", "Dev Patel")
    staff(pod_a, "buy", "sam", "Sam Carter")
    staff(pod_a, "order_install", "lee", "Lee Wong")
    staff(pod_a, "adopt", "ana", "Ana Silva")
    staff(pod_a, "support", "tom", "Tom Baker")
    staff(pod_b, "learn", "jonas", "Jonas Weber")
    staff(pod_b, "buy", "lena", "Lena Fischer")
    staff(pod_b, "adopt", "felix", "Felix Braun")
    staff(nordics, "buy", "erik", "Erik Lund")

    page.goto(f"{live_server.url}/")
    # Anonymous: sent to the login page, with the username field ready for typing.
    assert page.url == f"{live_server.url}/auth/login/?next=/"
    assert page.evaluate("document.activeElement.name") == "username"
    page.screenshot(path=screenshot_path("login.png"))
    page.keyboard.type("leader-ab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type("demo")
    page.keyboard.press("Enter")

    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your pods"
    assert sorted(card_names(page)) == ["DACH", "Southeast US"]
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").count() == 0

    dach = page.locator('[data-pod="dach"]')
    assert "DE AT CH" in dach.inner_text()
    assert "Europe/Berlin" in dach.inner_text()
    # DACH has nobody in Order/Install or Support today: both are flagged as unstaffed.
    unstaffed = dach.locator(".staffing-job.is-empty .staffing-job-name").all_inner_texts()
    assert unstaffed == ["Order/Install", "Support"]
    assert page.locator('[data-pod="southeast-us"] .staffing-total').inner_text() == "6 in total"
    assert dach.get_by_role("link", name="Open dashboard for DACH").get_attribute("href") == "/pods/dach/"

    page.screenshot(path=screenshot_path("home-leader.png"), full_page=True)


def test_admin_reassigns_two_people_in_bulk(page, live_server, login, admin_user, pod_a, pod_b, screenshot_path):
    admin_user.full_name = "Avery Admin"
    admin_user.save()
    pod_a.territory = "US-FL US-GA US-AL US-SC"
    pod_a.save()
    maria = staff(pod_a, "learn", "maria", "Maria Lopez")
    sam = staff(pod_a, "buy", "sam", "Sam Carter")
    dev = staff(pod_a, "learn", "dev", "Dev Patel")
    effective_on = dt.date.today()

    login(page, live_server, "admin", "demo", next_path="/admin/pods/user/")
    assert page.get_by_role("heading", name="Select person to change").count() == 1
    for person in (maria, sam):
        page.get_by_role("checkbox", name=f"Select this object for an action - {person.full_name}", exact=True).check()
    page.locator("select[name=action]").select_option(label="Reassign selected people…")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("button", name="Review reassignment")).to_be_visible()

    page.get_by_label("Pod").select_option(label="DACH")
    page.get_by_label("Buying job").select_option(label="Adopt")
    page.get_by_label("Effective date").fill(effective_on.isoformat())
    page.screenshot(path=screenshot_path("admin-reassign.png"), full_page=True)

    page.get_by_role("button", name="Review reassignment").click()
    expect(page.get_by_role("button", name="Confirm reassignment")).to_be_visible()
    moves = page.locator("#reassign-people tbody tr")
    expect(moves).to_have_count(2)
    assert all("Southeast US / Learn" in text or "Southeast US / Buy" in text for text in moves.all_inner_texts())
    page.screenshot(path=screenshot_path("admin-reassign-confirm.png"), full_page=True)

    page.get_by_role("button", name="Confirm reassignment").click()

    expect(page.locator(".messagelist .success")).to_have_text(
        f"Reassigned 2 people to DACH / Adopt from {effective_on:%Y-%m-%d}."
    )
    for person in (maria, sam):
        moved = current_assignment_of(person)
        assert (moved.pod, moved.job, moved.started_on) == (pod_b, "adopt", effective_on)
    # The person not selected stays where they were.
    assert (current_assignment_of(dev).pod, current_assignment_of(dev).job) == (pod_a, "learn")


def test_wrong_password_is_announced_and_the_next_try_works(page, live_server, staff_a, screenshot_path):
    page.goto(f"{live_server.url}/auth/login/?next=/")
    page.get_by_label("Username").fill("staff-a")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    expect(page.get_by_label("Username")).to_have_value("staff-a")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    # The username was right or nearly so: the retry starts in the password field.
    expect(page.get_by_label("Password")).to_be_focused()
    page.screenshot(path=screenshot_path("login-error.png"))

    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    assert card_names(page) == ["Southeast US"]


def test_an_admins_longer_menu_keeps_every_item_on_one_line(page, live_server, login, admin_user):
    """An admin sees eight menu items at a laptop's 1366 pixels: none breaks over two lines, nothing is cut off."""
    admin_user.full_name = "Demo Administrator"
    admin_user.save(update_fields=["full_name"])
    login(page, live_server, "admin", "demo", next_path="/imports/")
    broken = page.evaluate(
        """() => [...document.querySelectorAll('.nav-links a, .nav-user-name, .nav-user button')].filter(item => {
            const text = document.createRange();
            text.selectNodeContents(item);
            return new Set([...text.getClientRects()].map(line => Math.round(line.top))).size > 1;
        }).map(item => item.textContent.trim())"""
    )
    assert broken == []
    nav = page.locator(".site-nav")
    assert nav.evaluate("nav => nav.scrollWidth <= nav.clientWidth")
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport(ratio=1)
