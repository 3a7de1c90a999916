"""assignment_reassign: people move between pods and jobs without rewriting their history."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pods.models import Assignment
from pods.scoping import current_assignment_of, current_assignments, pods_visible_to
from pods.services import assignment_reassign
from tests.support.factories import AssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(pod_a, pod_b):
    """The earlier of the two pods' local dates, read when the test runs: a move effective on it has begun in both."""
    return min(pod_a.local_today(), pod_b.local_today())


@pytest.fixture
def yesterday(today):
    """Effective yesterday: "today" is then after the move in every pod's time zone."""
    return today - dt.timedelta(days=1)


def history(person):
    return list(
        Assignment.objects.filter(person=person)
        .order_by("started_on")
        .values_list("pod__slug", "job", "started_on", "ended_on")
    )


def test_reassignment_ends_the_old_assignment_on_the_day_the_new_one_starts(pod_a, pod_b, today):
    started = today - dt.timedelta(days=90)
    person = AssignmentFactory(pod=pod_a, job="learn", started_on=started).person
    day = today - dt.timedelta(days=10)

    new = assignment_reassign(person=person, pod=pod_b, job="buy", effective_on=day)

    assert (new.pod, new.job, new.started_on, new.ended_on) == (pod_b, "buy", day, None)
    assert history(person) == [("southeast-us", "learn", started, day), ("dach", "buy", day, None)]


def test_successive_reassignments_keep_every_step_of_the_history(pod_a, pod_b, today):
    first = today - dt.timedelta(days=100)
    person = AssignmentFactory(pod=pod_a, job="learn", started_on=first).person
    second, third = today - dt.timedelta(days=50), today - dt.timedelta(days=5)

    assignment_reassign(person=person, pod=pod_a, job="buy", effective_on=second)
    assignment_reassign(person=person, pod=pod_b, job="support", effective_on=third)

    assert history(person) == [
        ("southeast-us", "learn", first, second),
        ("southeast-us", "buy", second, third),
        ("dach", "support", third, None),
    ]


def test_a_person_without_any_assignment_gets_their_first(pod_b, yesterday):
    person = UserFactory()
    assignment_reassign(person=person, pod=pod_b, job="adopt", effective_on=yesterday)
    assert history(person) == [("dach", "adopt", yesterday, None)]


def test_reassigning_someone_to_where_they_already_are_changes_nothing(pod_a, today, yesterday):
    current = AssignmentFactory(pod=pod_a, job="learn", started_on=today - dt.timedelta(days=30))
    before = history(current.person)

    returned = assignment_reassign(person=current.person, pod=pod_a, job="learn", effective_on=yesterday)

    assert returned.pk == current.pk
    assert history(current.person) == before


def test_same_pod_other_job_is_a_move(pod_a, today, yesterday):
    current = AssignmentFactory(pod=pod_a, job="learn", started_on=today - dt.timedelta(days=30))
    assignment_reassign(person=current.person, pod=pod_a, job="order_install", effective_on=yesterday)
    assert [job for _, job, _, ended in history(current.person) if ended is None] == ["order_install"]


def test_an_assignment_starting_after_the_effective_day_is_refused(pod_a, pod_b, today):
    person = AssignmentFactory(pod=pod_a, started_on=today - dt.timedelta(days=30)).person
    assignment_reassign(person=person, pod=pod_b, job="buy", effective_on=today + dt.timedelta(days=14))
    before = history(person)

    with pytest.raises(ValidationError, match="already has an assignment starting after"):
        assignment_reassign(person=person, pod=pod_b, job="adopt", effective_on=today)

    assert history(person) == before


def test_the_database_refuses_two_overlapping_active_assignments(pod_a, pod_b, today):
    person = AssignmentFactory(pod=pod_a, started_on=today - dt.timedelta(days=30)).person

    with pytest.raises(IntegrityError, match="assignment_one_active_per_person"), transaction.atomic():
        Assignment.objects.create(person=person, pod=pod_b, job="buy", started_on=today)

    assert Assignment.objects.filter(person=person).count() == 1


def test_back_to_back_assignments_do_not_overlap(pod_a, pod_b, today):
    # [started_on, ended_on) is half-open: ending on D and starting on D is the normal shape of a move.
    day = today - dt.timedelta(days=10)
    person = AssignmentFactory(pod=pod_a, started_on=day - dt.timedelta(days=30), ended_on=day).person
    Assignment.objects.create(person=person, pod=pod_b, job="buy", started_on=day)
    assert Assignment.objects.filter(person=person).count() == 2


def test_staffing_and_access_follow_the_move(pod_a, pod_b, staff_a, yesterday):
    def staff_of(pod):
        return set(current_assignments().filter(pod=pod).values_list("person__username", flat=True))

    assert staff_of(pod_a) == {"staff-a"}
    assert set(pods_visible_to(staff_a).values_list("slug", flat=True)) == {"southeast-us"}

    assignment_reassign(person=staff_a, pod=pod_b, job="support", effective_on=yesterday)

    assert staff_of(pod_a) == set()
    assert staff_of(pod_b) == {"staff-a"}
    assert set(pods_visible_to(staff_a).values_list("slug", flat=True)) == {"dach"}
    assert current_assignment_of(staff_a).job == "support"


def test_a_move_dated_in_the_future_leaves_access_unchanged_until_then(pod_a, pod_b, staff_a, today):
    assignment_reassign(person=staff_a, pod=pod_b, job="buy", effective_on=today + dt.timedelta(days=7))
    assert set(pods_visible_to(staff_a).values_list("slug", flat=True)) == {"southeast-us"}
