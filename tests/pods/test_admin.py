"""The Django admin as an operations admin uses it: people, assignments, reassignment, every changelist."""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.models import Activity
from pods.models import Assignment, CenterOfExcellence, User
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AdoptionReadingFactory,
    AssignmentFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    PodFactory,
    SupportTicketFactory,
    TargetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PEOPLE_URL = reverse("admin:pods_user_changelist")


@pytest.fixture
def today(pod_a, pod_b):
    """The earlier of the two pods' local dates, read when the test runs: a move effective on it has begun in both."""
    return min(pod_a.local_today(), pod_b.local_today())


@pytest.fixture
def started(today):
    return today - dt.timedelta(days=60)


@pytest.fixture
def move_day(today):
    """Yesterday in both pods' zones: the moves of the tests have begun in A and in B."""
    return today - dt.timedelta(days=1)


@pytest.fixture
def learners(pod_a, started):
    """Three people in Southeast US / Learn since 60 days ago."""
    return [
        AssignmentFactory(person=UserFactory(username=f"learner{i}", full_name=f"Learner {i}"), pod=pod_a,
                          job="learn", started_on=started).person
        for i in range(3)
    ]  # fmt: skip


def run_action(client, people, **data):
    payload = {"action": "reassign_selected", ACTION_CHECKBOX_NAME: [person.pk for person in people], **data}
    return client.post(PEOPLE_URL, payload)


def destination(pod, day, job="buy", step="confirm"):
    return {"step": step, "pod": pod.pk, "job": job, "effective_on": day.isoformat()}


def history(person):
    rows = Assignment.objects.filter(person=person).order_by("started_on")
    return list(rows.values_list("pod__slug", "job", "started_on", "ended_on"))


def texts_of_messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def staff_user(username, *codenames):
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="pods", codename__in=codenames))
    return user


# --- Bulk reassignment -------------------------------------------------------------------------------------------


def test_the_action_opens_a_form_listing_the_selected_people_with_their_current_pod(admin_client, learners, pod_b):
    response = run_action(admin_client, learners[:2])

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/pods/reassign.html"
    page = response.content.decode()
    assert "Learner 0" in page and "Learner 1" in page
    assert "Learner 2" not in page
    assert page.count("Southeast US / Learn") == 2
    assert 'name="pod"' in page and 'name="job"' in page and 'name="effective_on"' in page
    # The effective date defaults to today, by the form's clock (the current time zone: no pod is chosen yet).
    assert f'value="{timezone.localdate().isoformat()}"' in page


def test_the_review_step_shows_each_move_before_anything_changes(admin_client, learners, pod_b, started, move_day):
    response = run_action(admin_client, learners, **destination(pod_b, move_day, step="review"))

    page = response.content.decode()
    assert "Confirm reassignment" in page
    assert page.count(f"DACH / Buy from {move_day:%Y-%m-%d}") >= 3
    assert all(history(person) == [("southeast-us", "learn", started, None)] for person in learners)


def test_confirming_moves_everyone_keeps_history_and_logs_each_person(
    admin_client, admin_user, learners, pod_b, started, move_day
):
    response = run_action(admin_client, learners, **destination(pod_b, move_day))

    assert response.status_code == 302
    for person in learners:
        assert history(person) == [("southeast-us", "learn", started, move_day), ("dach", "buy", move_day, None)]
        entries = LogEntry.objects.filter(object_id=str(person.pk), content_type__model="user")
        assert [(e.user, e.action_flag, e.get_change_message()) for e in entries] == [
            (admin_user, CHANGE, f"Reassigned to DACH / Buy from {move_day:%Y-%m-%d}")
        ]
    assert f"Reassigned 3 people to DACH / Buy from {move_day:%Y-%m-%d}." in texts_of_messages(response)


def test_people_already_there_are_left_alone_and_reported(admin_client, learners, pod_a, pod_b, started, move_day):
    already = AssignmentFactory(person=UserFactory(username="already"), pod=pod_b, job="buy", started_on=started)

    response = run_action(admin_client, [*learners, already.person], **destination(pod_b, move_day))

    assert history(already.person) == [("dach", "buy", started, None)]
    assert not LogEntry.objects.filter(object_id=str(already.person.pk)).exists()
    assert texts_of_messages(response) == [
        f"Reassigned 3 people to DACH / Buy from {move_day:%Y-%m-%d}.",
        "1 person was already in DACH / Buy; unchanged.",
    ]


def test_a_form_without_pod_is_shown_again_with_its_error_and_nothing_changes(
    admin_client, learners, pod_b, started, move_day
):
    data = destination(pod_b, move_day)
    del data["pod"]

    response = run_action(admin_client, learners, **data)

    assert response.status_code == 200
    assert response.context["form"].errors == {"pod": ["This field is required."]}
    assert "Please correct the error below." in response.content.decode()
    assert all(history(person) == [("southeast-us", "learn", started, None)] for person in learners)
    assert not LogEntry.objects.exists()


def test_a_refusal_from_the_service_changes_nobody(admin_client, learners, pod_b, today, started, move_day):
    # learner2 already moves to DACH next month: moving everyone from yesterday would rewrite that plan.
    planned = learners[2]
    Assignment.objects.filter(person=planned).update(ended_on=today + dt.timedelta(days=30))
    Assignment.objects.create(person=planned, pod=pod_b, job="adopt", started_on=today + dt.timedelta(days=30))

    response = run_action(admin_client, learners, **destination(pod_b, move_day))

    assert response.status_code == 200
    assert "already has an assignment starting after" in response.content.decode()
    assert all(history(person) == [("southeast-us", "learn", started, None)] for person in learners[:2])
    assert len(history(planned)) == 2
    assert not LogEntry.objects.exists()


def test_change_destination_goes_back_to_the_form_with_the_choice_kept(admin_client, learners, pod_b, move_day):
    response = run_action(admin_client, learners, **destination(pod_b, move_day), _edit="Change destination")

    assert response.status_code == 200
    assert response.context["step"] == "choose"
    assert response.context["form"]["pod"].value() == str(pod_b.pk)
    assert all(len(history(person)) == 1 for person in learners)


# --- One person ---------------------------------------------------------------------------------------------------


def test_one_person_can_be_reassigned_from_their_page(admin_client, learners, pod_b, started, move_day):
    person = learners[0]
    change_url = reverse("admin:pods_user_change", args=[person.pk])
    reassign_url = reverse("admin:pods_user_reassign", args=[person.pk])
    assert reassign_url == f"/admin/pods/user/{person.pk}/reassign/"
    assert reassign_url in admin_client.get(change_url).content.decode()

    form_page = admin_client.get(reassign_url)
    assert form_page.status_code == 200
    assert "Southeast US / Learn" in form_page.content.decode()
    review = admin_client.post(reassign_url, destination(pod_b, move_day, job="support", step="review"))
    assert "Confirm reassignment" in review.content.decode()
    response = admin_client.post(reassign_url, destination(pod_b, move_day, job="support"))

    assert response.status_code == 302
    assert response["Location"] == change_url
    assert history(person) == [("southeast-us", "learn", started, move_day), ("dach", "support", move_day, None)]
    assert LogEntry.objects.get().get_change_message() == f"Reassigned to DACH / Support from {move_day:%Y-%m-%d}"
    assert history(learners[1]) == [("southeast-us", "learn", started, None)]


def test_the_person_page_shows_the_whole_history_read_only(admin_client, learners, pod_b, move_day):
    person = learners[0]
    admin_client.post(reverse("admin:pods_user_reassign", args=[person.pk]), destination(pod_b, move_day))

    response = admin_client.get(reverse("admin:pods_user_change", args=[person.pk]))

    formset = response.context["inline_admin_formsets"][0]
    assert [(form.original.pod.slug, form.original.ended_on) for form in formset] == [
        ("dach", None),
        ("southeast-us", move_day),
    ]
    assert not formset.has_add_permission and not formset.has_change_permission
    assert not formset.has_delete_permission
    page = response.content.decode()
    assert 'name="assignments-0-pod"' not in page
    assert f"DACH / Buy since {move_day:%Y-%m-%d}" in page


def test_assignments_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, learners, started):
    assignment = Assignment.objects.filter(person=learners[0]).get()
    change_url = reverse("admin:pods_assignment_change", args=[assignment.pk])

    assert admin_client.get(reverse("admin:pods_assignment_add")).status_code == 403
    assert admin_client.post(change_url, {"job": "support", "started_on": "2020-01-01"}).status_code == 403
    assert (
        admin_client.post(reverse("admin:pods_assignment_delete", args=[assignment.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert admin_client.get(change_url).status_code == 200  # still viewable
    assert history(learners[0]) == [("southeast-us", "learn", started, None)]


# --- Permissions -----------------------------------------------------------------------------------------------


def test_staff_without_assignment_permissions_cannot_reassign(client, learners, pod_b, started, move_day):
    clerk = staff_user("clerk", "view_user", "change_user", "view_assignment")
    client.force_login(clerk)

    changelist = client.get(PEOPLE_URL)
    assert changelist.status_code == 200
    assert "reassign_selected" not in changelist.content.decode()
    reassign_url = reverse("admin:pods_user_reassign", args=[learners[0].pk])
    assert client.get(reassign_url).status_code == 403
    assert client.post(reassign_url, destination(pod_b, move_day)).status_code == 403
    run_action(client, learners, **destination(pod_b, move_day))
    assert "Reassign…" not in client.get(reverse("admin:pods_user_change", args=[learners[0].pk])).content.decode()

    assert all(history(person) == [("southeast-us", "learn", started, None)] for person in learners)


def test_one_of_the_two_assignment_permissions_is_not_enough(client, learners):
    client.force_login(staff_user("half", "view_user", "change_user", "add_assignment"))
    assert client.get(reverse("admin:pods_user_reassign", args=[learners[0].pk])).status_code == 403


def test_staff_with_both_assignment_permissions_can_reassign(client, learners, pod_b, move_day):
    client.force_login(staff_user("ops", "view_user", "add_assignment", "change_assignment"))

    assert "Reassign selected people…" in client.get(PEOPLE_URL).content.decode()
    response = run_action(client, learners, **destination(pod_b, move_day))

    assert response.status_code == 302
    assert all(history(person)[-1] == ("dach", "buy", move_day, None) for person in learners)


# --- Lists ------------------------------------------------------------------------------------------------------


@pytest.fixture
def a_little_of_everything(pod_a, pod_b, leader_a, staff_a, staff_b):
    account = AccountFactory(pod=pod_a)
    contact = ContactFactory(account=account)
    ActivityFactory(account=account, staff=staff_a, contact=contact)
    LeadFactory(account=account)
    OpportunityFactory(account=account)
    OrderFactory(account=account)
    AdoptionReadingFactory(account=account)
    SupportTicketFactory(account=account, csat=4)
    TargetFactory(pod=pod_a)
    CenterOfExcellence.objects.first().members.add(leader_a)  # the three centers come with migration 0002


def test_every_registered_changelist_opens(admin_client, a_little_of_everything):
    assert len(admin.site._registry) >= 14
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert response.context["cl"].result_count >= 0
        # Searching exercises every search_fields lookup.
        assert admin_client.get(url, {"q": "a"}).status_code == 200, url


def test_every_registered_change_page_opens(admin_client, a_little_of_everything):
    opened = 0
    for model in admin.site._registry:
        obj = model._default_manager.first()
        if obj is None:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert admin_client.get(url).status_code == 200, url
        opened += 1
    assert opened >= 13


def test_a_person_is_added_with_their_full_name(admin_client):
    response = admin_client.post(
        reverse("admin:pods_user_add"),
        {"username": "newhire", "full_name": "Nadia Novak", "email": "nadia@example.com", "usable_password": "false"},
    )
    assert response.status_code == 302
    person = User.objects.get(username="newhire")
    assert (str(person), person.email, person.has_usable_password()) == ("Nadia Novak", "nadia@example.com", False)


def test_every_registered_add_page_opens_where_adding_is_allowed(admin_client, admin_user, rf, a_little_of_everything):
    request = rf.get("/admin/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert admin_client.get(url).status_code == expected, url


def test_people_are_filtered_by_their_current_pod(admin_client, pod_a, pod_b, staff_a, staff_b, today, started):
    gone = AssignmentFactory(pod=pod_a, started_on=started, ended_on=today - dt.timedelta(days=7)).person

    in_a = admin_client.get(PEOPLE_URL, {"current_pod": pod_a.pk}).context["cl"].result_list
    nowhere = admin_client.get(PEOPLE_URL, {"current_pod": "none"}).context["cl"].result_list

    assert [person.username for person in in_a] == ["staff-a"]
    assert gone in nowhere and staff_a not in nowhere and staff_b not in nowhere


def test_the_people_list_shows_each_persons_current_pod_and_job(admin_client, staff_a, staff_b):
    page = admin_client.get(PEOPLE_URL).content.decode()
    assert "Southeast US / Learn" in page and "DACH / Buy" in page


def test_the_pod_list_counts_current_staff_only(admin_client, pod_a, pod_b, staff_a, today, started):
    AssignmentFactory(pod=pod_a, job="buy")
    AssignmentFactory(pod=pod_a, started_on=started, ended_on=today - dt.timedelta(days=3))
    AssignmentFactory(pod=pod_a, started_on=today + dt.timedelta(days=3))

    pods = admin_client.get(reverse("admin:pods_pod_changelist")).context["cl"].result_list

    assert {pod.slug: pod.current_staff_count for pod in pods} == {"southeast-us": 2, "dach": 0}


def test_a_fact_added_in_the_admin_takes_its_accounts_pod_and_keeps_it(admin_client, pod_a, pod_b):
    account = AccountFactory(pod=pod_a)
    response = admin_client.post(
        reverse("admin:jobs_activity_add"),
        {"account": account.pk, "occurred_at_0": "2026-03-02", "occurred_at_1": "10:00:00",
         "job": "learn", "channel": "digital", "kind": "webinar", "pod": pod_b.pk},
    )  # fmt: skip
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.pod == pod_a

    change = admin_client.get(reverse("admin:jobs_activity_change", args=[activity.pk]))
    assert "pod" not in change.context["adminform"].form.fields


# --- Query counts ------------------------------------------------------------------------------------------------


def add_people(count, pod_a, pod_b, prefix, started, move_day):
    for i in range(count):
        person = UserFactory(username=f"{prefix}{i:02}")
        AssignmentFactory(person=person, pod=pod_a, job="learn", started_on=started, ended_on=move_day)
        AssignmentFactory(person=person, pod=pod_b if i % 2 else pod_a, job="buy", started_on=move_day)


@pytest.fixture
def thirty_people(pod_a, pod_b, started, move_day):
    add_people(30, pod_a, pod_b, "p", started, move_day)


def queries_to_get(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_people_list_runs_a_bounded_number_of_queries(admin_client, thirty_people, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        response = admin_client.get(PEOPLE_URL)
    assert response.context["cl"].result_count == 31  # the 30 and the admin


def test_the_assignment_list_runs_a_bounded_number_of_queries(
    admin_client, thirty_people, django_assert_max_num_queries
):
    with django_assert_max_num_queries(9):
        response = admin_client.get(reverse("admin:pods_assignment_changelist"))
    assert response.context["cl"].result_count == 60


@pytest.mark.parametrize("url_name", ["admin:pods_user_changelist", "admin:pods_assignment_changelist",
                                      "admin:pods_pod_changelist"])  # fmt: skip
def test_list_queries_do_not_grow_with_the_number_of_people(
    admin_client, pod_a, pod_b, thirty_people, url_name, started, move_day
):
    url = reverse(url_name)
    queries_to_get(admin_client, url)  # warm the content-type and session caches
    before = queries_to_get(admin_client, url)
    add_people(30, pod_a, pod_b, "q", started, move_day)
    for i in range(5):
        PodFactory(slug=f"extra-{i}").leaders.add(UserFactory())
    assert queries_to_get(admin_client, url) == before
