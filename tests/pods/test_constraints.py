"""The database refuses bad pods, assignments, accounts and contacts even when the code skips validation.

Every write here goes through ``objects.create``, ``bulk_create`` or ``queryset.update``, none of which
call ``full_clean``: what stops the bad row is PostgreSQL.
"""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from pods.models import Account, Assignment, CenterOfExcellence, Contact, Pod
from tests.support.factories import AccountFactory, AssignmentFactory, ContactFactory, PodFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "America/New York", "Europe/Atlantis", ""])
def test_a_pod_needs_a_real_time_zone(zone):
    with pytest.raises(IntegrityError, match="pod_timezone_valid"), transaction.atomic():
        Pod.objects.create(slug="mars", name="Mars", timezone=zone)
    assert not Pod.objects.filter(slug="mars").exists()


def test_an_existing_pod_cannot_be_moved_to_an_unknown_time_zone():
    pod = PodFactory(timezone="Europe/Berlin")
    with pytest.raises(IntegrityError, match="pod_timezone_valid"), transaction.atomic():
        Pod.objects.filter(pk=pod.pk).update(timezone="Europe/Atlantis")
    pod.refresh_from_db()
    assert pod.timezone == "Europe/Berlin"


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"])
def test_real_time_zones_are_accepted(zone):
    Pod.objects.create(slug="somewhere", name="Somewhere", timezone=zone)


def test_pod_slugs_are_unique():
    PodFactory(slug="dach")
    with pytest.raises(IntegrityError), transaction.atomic():
        Pod.objects.bulk_create([Pod(slug="dach", name="DACH again", timezone="Europe/Berlin")])


@pytest.mark.parametrize("job", ["sell", "Learn", ""])
def test_an_assignment_names_one_of_the_five_buying_jobs(job):
    with pytest.raises(IntegrityError, match="assignment_job_valid"), transaction.atomic():
        AssignmentFactory(job=job)


def test_an_assignment_cannot_end_before_it_starts():
    assignment = AssignmentFactory(started_on=DAY)
    with pytest.raises(IntegrityError, match="assignment_ends_after_start"), transaction.atomic():
        Assignment.objects.filter(pk=assignment.pk).update(ended_on=DAY - dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # (started_on, ended_on) offsets in days from DAY; None: open-ended.
        ((0, None), (10, None)),  # two open-ended assignments
        ((0, None), (-10, 5)),  # a closed one reaching into an open-ended one
        ((0, 30), (10, 20)),  # one inside the other
        ((0, 30), (29, None)),  # sharing a single day
    ],
)
def test_one_person_never_has_two_assignments_on_the_same_day(first, second):
    person = UserFactory()
    pod = PodFactory()

    def assignment(offsets):
        start, end = offsets
        return Assignment(
            person=person,
            pod=pod,
            job="learn",
            started_on=DAY + dt.timedelta(days=start),
            ended_on=None if end is None else DAY + dt.timedelta(days=end),
        )

    Assignment.objects.bulk_create([assignment(first)])
    with pytest.raises(IntegrityError, match="assignment_one_active_per_person"), transaction.atomic():
        Assignment.objects.bulk_create([assignment(second)])
    assert Assignment.objects.filter(person=person).count() == 1


def test_reopening_an_ended_assignment_over_its_successor_is_refused():
    person = UserFactory()
    ended = AssignmentFactory(person=person, started_on=DAY - dt.timedelta(days=30), ended_on=DAY)
    AssignmentFactory(person=person, started_on=DAY)
    with pytest.raises(IntegrityError, match="assignment_one_active_per_person"), transaction.atomic():
        Assignment.objects.filter(pk=ended.pk).update(ended_on=None)


def test_different_people_may_share_pod_job_and_dates():
    pod = PodFactory()
    AssignmentFactory(pod=pod, started_on=DAY)
    AssignmentFactory(pod=pod, started_on=DAY)
    assert Assignment.objects.filter(pod=pod).count() == 2


def test_account_external_ids_are_unique():
    account = AccountFactory(external_id="ACME-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(external_id="ACME-1", name="Acme twin", pod=account.pod)


@pytest.mark.parametrize("persona", ["buyer", "Champion", ""])
def test_a_contact_has_one_of_the_three_personas(persona):
    account = AccountFactory()
    with pytest.raises(IntegrityError, match="contact_persona_valid"), transaction.atomic():
        Contact.objects.create(external_id="C-1", account=account, persona=persona)


def test_a_contacts_persona_cannot_be_updated_to_an_unknown_one():
    contact = ContactFactory(persona="executive")
    with pytest.raises(IntegrityError, match="contact_persona_valid"), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(persona="ceo")


def test_contact_external_ids_are_unique():
    contact = ContactFactory(external_id="C-7")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(external_id="C-7", account=contact.account, persona="end_user")


def test_center_of_excellence_names_are_unique():
    existing = CenterOfExcellence.objects.first()  # the three centers come with migration 0002
    with pytest.raises(IntegrityError), transaction.atomic():
        CenterOfExcellence.objects.create(slug="another-slug", name=existing.name)
