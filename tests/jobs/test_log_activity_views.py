"""The log-activity screen (PRODUCT.md screen 4): form, account search, inline errors, recent list, edit, delete."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.models import Activity
from pods.services import assignment_reassign
from tests.support.factories import AccountFactory, ActivityFactory, AssignmentFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/activities/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme(pod_a):
    return AccountFactory(pod=pod_a, name="Acme Tools", external_id="SE-ACME")


@pytest.fixture
def acme_de(pod_b):
    return AccountFactory(pod=pod_b, name="Acme GmbH", external_id="DE-ACME")


def logged_in(client, user):
    client.force_login(user)
    return client


def form_data(chosen, **overrides):
    """What the browser posts once ``chosen`` was picked in the account search box."""
    data = {
        "account_search": f"{chosen.name} ({chosen.external_id})",
        "account": chosen.pk,
        "job": "buy",
        "channel": "in_person",
        "kind": "demo",
        "contact": "",
        "occurred_at": "2026-03-02T09:30",
        "minutes": "45",
        "notes": "Showed the new dashboard",
    }
    return data | overrides


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-activity="(\d+)"', html)]


def input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html, re.S)
    return match.group(1) if match else ""


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/auth/login/")


def test_the_form_renders_with_the_staff_members_job_and_the_pods_current_time(client, staff_a):
    response = logged_in(client, staff_a).get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Account", "Buying job", "Channel", "Kind", "Contact", "When", "Minutes", "Notes"):
        assert f">{label}" in html
    assert 'href="/activities/" aria-current="page">Log activity</a>' in html
    assert '<option value="learn" selected>' in html  # staff-a works in Learn
    assert 'role="combobox"' in html
    assert 'hx-trigger="input changed delay:250ms"' in html
    for suggestion in ("webinar", "health_check"):
        assert f'<option value="{suggestion}">' in html
    shown = dt.datetime.strptime(input_value(html, "occurred_at"), "%Y-%m-%dT%H:%M")
    now_in_new_york = timezone.now().astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    assert abs(now_in_new_york - shown) < dt.timedelta(minutes=2)
    assert "America/New_York" in html


def test_someone_without_a_pod_is_told_so_instead_of_a_form(client, outsider):
    html = logged_in(client, outsider).get(URL).content.decode()
    assert "No accounts to log for" in html
    assert 'name="account_search"' not in html


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("staff_a", {"SE-ACME"}),
        ("staff_b", {"DE-ACME"}),
        ("leader_a", {"SE-ACME"}),
        ("leader_ab", {"SE-ACME", "DE-ACME"}),
        ("admin_user", {"SE-ACME", "DE-ACME"}),
        ("outsider", set()),
    ],
)
def test_the_account_search_offers_only_accounts_the_user_may_log_for(client, request, acme, acme_de, role, expected):
    AccountFactory(pod=acme.pod, name="Globex", external_id="SE-GLOBEX")
    response = logged_in(client, request.getfixturevalue(role)).get(
        f"{URL}accounts/", {"account_search": "acme"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    offered = set(re.findall(r"data-label=\"[^\"]*\((.*?)\)\"", html))
    assert offered == expected
    if not expected:
        assert "No account you may log for matches" in html


def test_the_account_search_matches_external_ids_and_is_empty_without_a_query(client, staff_a, acme):
    client = logged_in(client, staff_a)
    assert f'data-value="{acme.pk}"' in client.get(f"{URL}accounts/", {"account_search": "se-ac"}).content.decode()
    empty = client.get(f"{URL}accounts/", {"account_search": "  "}).content.decode()
    assert 'role="option"' not in empty
    assert " hidden>" in empty


def test_the_contact_picker_lists_the_contacts_of_the_chosen_account_only(client, staff_a, acme, acme_de):
    ContactFactory(account=acme, name="Ann Archer")
    ContactFactory(account=AccountFactory(pod=acme.pod), name="Bob Other")
    ContactFactory(account=acme_de, name="Uwe Fremd")
    client = logged_in(client, staff_a)
    html = client.get(f"{URL}contacts/", {"account": acme.pk}, **HTMX).content.decode()
    assert "Ann Archer" in html
    assert "Bob Other" not in html
    foreign = client.get(f"{URL}contacts/", {"account": acme_de.pk}, **HTMX).content.decode()
    assert "Uwe Fremd" not in foreign
    assert "Choose an account first" in foreign


def test_a_validation_error_keeps_what_was_typed_and_points_at_the_first_error(client, staff_a, acme):
    data = form_data(acme, kind="", minutes="-5", notes="Typed before the error")
    response = logged_in(client, staff_a).post(URL, data, **HTMX)
    html = response.content.decode()

    assert response.status_code == 200
    assert not Activity.objects.exists()
    assert html.lstrip().startswith("<form")  # the form partial only, for the htmx swap
    assert 'role="alert"' in html
    assert "Must be 0 or more." in html
    assert "Say what kind of activity this was" in html
    assert 'data-focus="id_kind"' in html  # kind comes before minutes on the page
    assert re.search(r'name="kind"[^>]*aria-invalid="true"', html, re.S)
    assert re.search(r'name="minutes"[^>]*aria-invalid="true"', html, re.S)
    assert input_value(html, "minutes") == "-5"
    assert input_value(html, "account") == str(acme.pk)
    assert input_value(html, "account_search") == "Acme Tools (SE-ACME)"
    assert input_value(html, "occurred_at") == "2026-03-02T09:30"
    assert "Typed before the error</textarea>" in html
    assert '<option value="in_person" selected>' in html


def test_an_account_outside_the_users_pods_is_refused(client, staff_a, acme_de):
    response = logged_in(client, staff_a).post(URL, form_data(acme_de), **HTMX)
    html = response.content.decode()
    assert "Choose one of the accounts offered in the list." in html
    assert 'data-focus="id_account_search"' in html
    assert not Activity.objects.exists()


def test_a_missing_account_is_an_error_on_the_search_box(client, staff_a, acme):
    response = logged_in(client, staff_a).post(URL, form_data(acme, account="", account_search=""), **HTMX)
    assert "Choose an account" in response.content.decode()
    assert not Activity.objects.exists()


def test_a_contact_of_another_account_is_refused(client, staff_a, acme):
    stranger = ContactFactory(account=AccountFactory(pod=acme.pod))
    response = logged_in(client, staff_a).post(URL, form_data(acme, contact=stranger.pk), **HTMX)
    assert "Choose a contact of the selected account." in response.content.decode()
    assert not Activity.objects.exists()


def test_saving_resets_the_form_and_puts_the_activity_first_in_the_recent_list(client, staff_a, acme):
    older = ActivityFactory(account=acme, staff=staff_a, occurred_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    contact = ContactFactory(account=acme, name="Ann Archer")

    response = logged_in(client, staff_a).post(URL, form_data(acme, contact=contact.pk), **HTMX)
    html = response.content.decode()

    assert response.status_code == 200
    activity = Activity.objects.exclude(pk=older.pk).get()
    assert (activity.staff, activity.pod, activity.account, activity.contact) == (staff_a, acme.pod, acme, contact)
    assert (activity.job, activity.channel, activity.kind, activity.minutes) == ("buy", "in_person", "demo", 45)
    # 09:30 typed in the Southeast US pod (New York, EST in early March) is 14:30 UTC.
    assert activity.occurred_at == dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)

    form_html, recent_html = html.split('id="recent-activities"', 1)
    assert input_value(form_html, "account_search") == ""
    assert input_value(form_html, "account") == ""
    assert input_value(form_html, "minutes") == ""
    assert "Showed the new dashboard" not in form_html
    assert 'data-focus="id_account_search"' in form_html
    assert 'hx-swap-oob="true"' in recent_html[:200]
    assert row_ids(recent_html) == [activity.pk, older.pk]
    assert "Activity logged: demo for Acme Tools." in html


def test_the_time_is_read_in_the_zone_of_the_accounts_pod(client, leader_ab, acme_de):
    logged_in(client, leader_ab).post(URL, form_data(acme_de, occurred_at="2026-03-02T09:30"), **HTMX)
    # Berlin is on CET (UTC+1) in early March.
    assert Activity.objects.get().occurred_at == dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)


def test_without_script_the_form_posts_and_redirects_and_a_typed_external_id_is_enough(client, staff_a, acme):
    client = logged_in(client, staff_a)
    response = client.post(URL, form_data(acme, account="", account_search="se-acme"))
    assert response.status_code == 302
    assert response.url == URL
    activity = Activity.objects.get()
    assert activity.account == acme
    page = client.get(URL).content.decode()
    assert "Activity logged: demo for Acme Tools." in page
    assert row_ids(page) == [activity.pk]


def test_without_script_a_validation_error_renders_the_whole_page_with_the_error(client, staff_a, acme):
    response = logged_in(client, staff_a).post(URL, form_data(acme, minutes="-5"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'data-focus="id_minutes"' in html
    assert "My recent activities" in html


def test_the_recent_list_shows_only_my_activities_newest_first_20_per_page(client, staff_a, acme):
    colleague = AssignmentFactory(person=UserFactory(username="colleague"), pod=acme.pod).person
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    mine = [
        ActivityFactory(account=acme, staff=staff_a, occurred_at=base + dt.timedelta(hours=h)).pk for h in range(25)
    ]
    ActivityFactory(account=acme, staff=colleague)
    client = logged_in(client, staff_a)

    first = client.get(URL).content.decode()
    assert row_ids(first) == list(reversed(mine))[:20]
    assert "25 activities" in first
    assert "Page 1 of 2" in first

    second = client.get(URL, {"page": 2}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="recent-activities")
    html = second.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="recent-activities"')
    assert row_ids(html) == list(reversed(mine))[20:]


def test_the_recent_list_is_filtered_with_the_activity_filterset(client, staff_a, acme):
    learn = ActivityFactory(account=acme, staff=staff_a, job="learn").pk
    ActivityFactory(account=acme, staff=staff_a, job="buy")
    html = logged_in(client, staff_a).get(URL, {"job": "learn"}).content.decode()
    assert row_ids(html) == [learn]
    assert '<option value="learn" selected>Learn</option>' in html
    assert 'href="/activities/export.csv?job=learn"' in html


def queries_for_recent_list(client, staff, account, count):
    for _ in range(count):
        ActivityFactory(account=account, staff=staff, contact=ContactFactory(account=account))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert len(row_ids(response.content.decode())) == min(count, 20)
    return len(queries)


def test_the_recent_list_costs_the_same_queries_for_5_and_50_activities(client, pod_a):
    few_staff = AssignmentFactory(person=UserFactory(username="few"), pod=pod_a).person
    many_staff = AssignmentFactory(person=UserFactory(username="many"), pod=pod_a).person
    few = queries_for_recent_list(logged_in(client, few_staff), few_staff, AccountFactory(pod=pod_a), 5)
    many = queries_for_recent_list(logged_in(client, many_staff), many_staff, AccountFactory(pod=pod_a), 50)
    assert few == many


def test_edit_shows_the_activity_in_its_pods_time_and_saves_changes(client, staff_a, acme):
    activity = ActivityFactory(
        account=acme, staff=staff_a, kind="call", minutes=10, occurred_at=dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
    )
    client = logged_in(client, staff_a)
    page = client.get(f"{URL}{activity.pk}/edit/").content.decode()
    assert input_value(page, "kind") == "call"
    assert input_value(page, "occurred_at") == "2026-03-02T09:30"
    assert input_value(page, "account_search") == "Acme Tools (SE-ACME)"

    response = client.post(f"{URL}{activity.pk}/edit/", form_data(acme, kind="demo", minutes="30"))
    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.kind, activity.minutes, activity.staff, activity.pod) == ("demo", 30, staff_a, acme.pod)
    assert activity.occurred_at == dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)


def test_edit_keeps_typed_values_on_error(client, staff_a, acme):
    activity = ActivityFactory(account=acme, staff=staff_a, kind="call")
    response = logged_in(client, staff_a).post(f"{URL}{activity.pk}/edit/", form_data(acme, minutes="-5"))
    html = response.content.decode()
    assert response.status_code == 200
    assert input_value(html, "minutes") == "-5"
    assert 'data-focus="id_minutes"' in html
    activity.refresh_from_db()
    assert activity.kind == "call"


def test_edit_offers_only_accounts_of_the_activitys_pod(client, leader_ab, acme, acme_de):
    activity = ActivityFactory(account=acme, staff=leader_ab)
    client = logged_in(client, leader_ab)
    search = client.get(f"{URL}accounts/", {"account_search": "acme", "pod": "southeast-us"}).content.decode()
    assert f'data-value="{acme_de.pk}"' not in search
    response = client.post(f"{URL}{activity.pk}/edit/", form_data(acme_de))
    assert response.status_code == 200
    activity.refresh_from_db()
    assert activity.account == acme


@pytest.mark.parametrize("method", ["get", "post"])
def test_nobody_edits_or_deletes_an_activity_someone_else_logged(client, method, staff_a, leader_a, acme):
    colleague = AssignmentFactory(person=UserFactory(username="colleague"), pod=acme.pod).person
    activity = ActivityFactory(account=acme, staff=colleague, kind="call")
    for user in (staff_a, leader_a):
        client = logged_in(client, user)
        for path in (f"{URL}{activity.pk}/edit/", f"{URL}{activity.pk}/delete/"):
            response = getattr(client, method)(path, form_data(acme, kind="hacked") if method == "post" else None)
            assert response.status_code == 404
    activity.refresh_from_db()
    assert activity.kind == "call"


def test_a_reassigned_staff_member_no_longer_edits_the_old_pods_activities(client, staff_a, acme, pod_b):
    activity = ActivityFactory(account=acme, staff=staff_a)
    # Yesterday in both pods' zones: the move has then begun in the old pod and in the new one.
    yesterday = min(acme.pod.local_today(), pod_b.local_today()) - dt.timedelta(days=1)
    assignment_reassign(person=staff_a, pod=pod_b, job="buy", effective_on=yesterday)
    assert logged_in(client, staff_a).get(f"{URL}{activity.pk}/edit/").status_code == 404


def test_delete_asks_for_confirmation_first(client, staff_a, acme):
    activity = ActivityFactory(account=acme, staff=staff_a, kind="call")
    client = logged_in(client, staff_a)

    page = client.get(f"{URL}{activity.pk}/delete/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html
    assert "Delete this activity?" in html
    assert 'method="post"' in html
    assert "hx-post" not in html  # a plain form on the page of its own

    inline = client.get(f"{URL}{activity.pk}/delete/", {"page": 1}, **HTMX).content.decode()
    assert inline.lstrip().startswith(f'<tr id="activity-{activity.pk}"')
    assert 'hx-target="#recent-activities"' in inline
    assert f'data-focus="confirm-delete-{activity.pk}"' in inline
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_deleting_after_confirmation_removes_it_from_the_list(client, staff_a, acme):
    kept = ActivityFactory(account=acme, staff=staff_a, occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    doomed = ActivityFactory(account=acme, staff=staff_a, kind="call")
    client = logged_in(client, staff_a)

    response = client.post(f"{URL}{doomed.pk}/delete/", {"page": 1}, **HTMX)
    html = response.content.decode()
    assert row_ids(html) == [kept.pk]
    assert 'data-focus="recent-heading"' in html
    assert "Activity deleted: call for Acme Tools." in html
    assert not Activity.objects.filter(pk=doomed.pk).exists()

    plain = client.post(f"{URL}{kept.pk}/delete/")
    assert plain.status_code == 302
    assert not Activity.objects.exists()
