"""Activity services and the selectors behind "who may log for which account"."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from jobs.models import Activity
from jobs.selectors import accounts_loggable_by, activities_editable_by, pods_loggable_by
from jobs.services import activity_delete, activity_log, activity_update
from pods.services import assignment_reassign
from tests.support.factories import AccountFactory, ActivityFactory, AssignmentFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)


def log(staff, account, **overrides):
    arguments = {"job": "learn", "channel": "digital", "kind": "webinar", "occurred_at": WHEN} | overrides
    return activity_log(staff=staff, account=account, **arguments)


def test_an_activity_is_stored_under_the_accounts_pod_with_its_staff(pod_a, staff_a):
    account = AccountFactory(pod=pod_a)
    contact = ContactFactory(account=account)

    activity = log(staff_a, account, contact=contact, minutes=45, notes="Asked for pricing", external_id="CRM-1")

    stored = Activity.objects.get()
    assert stored == activity
    assert (stored.pod, stored.account, stored.staff, stored.contact) == (pod_a, account, staff_a, contact)
    assert (stored.job, stored.channel, stored.kind) == ("learn", "digital", "webinar")
    assert (stored.occurred_at, stored.minutes, stored.notes, stored.external_id) == (
        WHEN,
        45,
        "Asked for pricing",
        "CRM-1",
    )


def test_the_pod_is_the_accounts_pod_at_the_moment_of_logging(pod_a, pod_b, staff_a):
    account = AccountFactory(pod=pod_a)
    before = log(staff_a, account)
    account.pod = pod_b
    account.save()
    after = log(staff_a, account)

    before.refresh_from_db()
    assert before.pod == pod_a  # history is not rewritten by moving the account
    assert after.pod == pod_b


def test_a_contact_of_another_account_is_refused_and_nothing_is_written(pod_a, staff_a):
    account = AccountFactory(pod=pod_a)
    stranger = ContactFactory(account=AccountFactory(pod=pod_a))
    with pytest.raises(ValidationError) as error:
        log(staff_a, account, contact=stranger)
    assert "contact" in error.value.message_dict
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "   "}, "kind"),
        ({"job": "sell"}, "job"),
        ({"channel": "fax"}, "channel"),
        ({"minutes": -5}, "minutes"),
    ],
)
def test_invalid_values_are_refused_per_field(pod_a, staff_a, overrides, field):
    with pytest.raises(ValidationError) as error:
        log(staff_a, AccountFactory(pod=pod_a), **overrides)
    assert field in error.value.message_dict
    assert not Activity.objects.exists()


def test_an_external_id_is_unique(pod_a, staff_a):
    account = AccountFactory(pod=pod_a)
    log(staff_a, account, external_id="CRM-7")
    with pytest.raises(ValidationError) as error:
        log(staff_a, account, external_id="CRM-7")
    assert "external_id" in error.value.message_dict
    assert Activity.objects.count() == 1


def test_an_empty_external_id_is_stored_as_none_so_many_may_lack_one(pod_a, staff_a):
    account = AccountFactory(pod=pod_a)
    log(staff_a, account, external_id="")
    log(staff_a, account, external_id="")
    assert list(Activity.objects.values_list("external_id", flat=True)) == [None, None]


def test_update_changes_the_given_fields_only(pod_a, staff_a):
    account = AccountFactory(pod=pod_a)
    activity = log(staff_a, account, minutes=10, notes="first call")
    other = AccountFactory(pod=pod_a)

    activity_update(activity=activity, account=other, kind="demo", minutes=30)

    activity.refresh_from_db()
    assert (activity.account, activity.kind, activity.minutes, activity.notes) == (other, "demo", 30, "first call")
    assert (activity.pod, activity.staff) == (pod_a, staff_a)


def test_update_never_moves_an_activity_to_another_pod(pod_a, pod_b, staff_a):
    activity = log(staff_a, AccountFactory(pod=pod_a))
    with pytest.raises(ValidationError) as error:
        activity_update(activity=activity, account=AccountFactory(pod=pod_b))
    assert "account" in error.value.message_dict
    activity.refresh_from_db()
    assert activity.pod == pod_a


def test_update_refuses_pod_staff_and_created_at(pod_a, pod_b, staff_a, staff_b):
    activity = log(staff_a, AccountFactory(pod=pod_a))
    for field, value in (("pod", pod_b), ("staff", staff_b), ("created_at", WHEN)):
        with pytest.raises(TypeError):
            activity_update(activity=activity, **{field: value})


def test_update_checks_the_contact_against_the_account(pod_a, staff_a):
    activity = log(staff_a, AccountFactory(pod=pod_a))
    with pytest.raises(ValidationError) as error:
        activity_update(activity=activity, contact=ContactFactory(account=AccountFactory(pod=pod_a)))
    assert "contact" in error.value.message_dict


def test_delete_removes_the_activity(pod_a, staff_a):
    activity = log(staff_a, AccountFactory(pod=pod_a))
    activity_delete(activity=activity)
    assert not Activity.objects.exists()


def slugs(pods):
    return set(pods.values_list("slug", flat=True))


def test_who_may_log_for_which_pod(
    pod_a, pod_b, admin_user, group_admin, leader_a, leader_ab, staff_a, staff_b, outsider
):
    assert slugs(pods_loggable_by(admin_user)) == {"southeast-us", "dach"}
    assert slugs(pods_loggable_by(group_admin)) == {"southeast-us", "dach"}
    assert slugs(pods_loggable_by(leader_a)) == {"southeast-us"}
    assert slugs(pods_loggable_by(leader_ab)) == {"southeast-us", "dach"}
    assert slugs(pods_loggable_by(staff_a)) == {"southeast-us"}
    assert slugs(pods_loggable_by(staff_b)) == {"dach"}
    assert slugs(pods_loggable_by(outsider)) == set()


def test_a_leader_who_is_also_staff_may_log_for_both_pods(pod_a, pod_b, leader_a):
    AssignmentFactory(person=leader_a, pod=pod_b, job="adopt")
    assert slugs(pods_loggable_by(leader_a)) == {"southeast-us", "dach"}
    assert pods_loggable_by(leader_a).count() == 2  # no duplicate rows


def test_a_reassigned_staff_member_logs_for_the_new_pod_at_once(pod_a, pod_b, staff_a):
    # Yesterday in both pods' zones: the move has then begun in A (ended) and in B (started).
    yesterday = min(pod_a.local_today(), pod_b.local_today()) - dt.timedelta(days=1)
    assignment_reassign(person=staff_a, pod=pod_b, job="buy", effective_on=yesterday)
    assert slugs(pods_loggable_by(staff_a)) == {"dach"}


def test_an_ended_or_future_assignment_gives_no_pod(pod_a):
    today = pod_a.local_today()  # the pod's date decides, not the server's
    former = AssignmentFactory(
        person=UserFactory(username="former"), pod=pod_a, started_on=today - dt.timedelta(days=60), ended_on=today
    ).person
    future = AssignmentFactory(
        person=UserFactory(username="future"), pod=pod_a, started_on=today + dt.timedelta(days=5)
    ).person
    assert slugs(pods_loggable_by(former)) == set()
    assert slugs(pods_loggable_by(future)) == set()


def test_account_search_matches_name_or_external_id_within_the_loggable_pods(pod_a, pod_b, staff_a):
    acme = AccountFactory(pod=pod_a, name="Acme Tools", external_id="SE-100")
    AccountFactory(pod=pod_a, name="Globex", external_id="SE-200")
    AccountFactory(pod=pod_b, name="Acme GmbH", external_id="DE-100")
    assert list(accounts_loggable_by(staff_a, search="acme")) == [acme]
    assert list(accounts_loggable_by(staff_a, search="se-1")) == [acme]
    assert {a.name for a in accounts_loggable_by(staff_a)} == {"Acme Tools", "Globex"}


def test_only_the_staff_who_logged_an_activity_may_edit_it(pod_a, staff_a, leader_a):
    colleague = AssignmentFactory(person=UserFactory(username="colleague"), pod=pod_a).person
    mine = ActivityFactory(account=AccountFactory(pod=pod_a), staff=staff_a)
    ActivityFactory(account=AccountFactory(pod=pod_a), staff=colleague)
    assert list(activities_editable_by(staff_a)) == [mine]
    assert list(activities_editable_by(leader_a)) == []
