"""pods_visible_to: the single rule every view and endpoint builds on."""

import datetime as dt

import pytest

from pods.scoping import current_assignment_of, is_uce_admin, pods_visible_to
from pods.services import assignment_reassign
from tests.support.factories import AssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def slugs(user):
    return set(pods_visible_to(user).values_list("slug", flat=True))


def test_each_role_sees_exactly_its_pods(pod_a, pod_b, admin_user, group_admin, leader_a, leader_ab, staff_a, outsider):
    assert slugs(admin_user) == {"southeast-us", "dach"}
    assert slugs(group_admin) == {"southeast-us", "dach"}
    assert slugs(leader_a) == {"southeast-us"}
    assert slugs(leader_ab) == {"southeast-us", "dach"}
    assert slugs(staff_a) == {"southeast-us"}
    assert slugs(outsider) == set()


def test_anonymous_and_inactive_users_see_nothing(pod_a, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    assert slugs(AnonymousUser()) == set()
    inactive = UserFactory(username="gone", is_active=False, is_superuser=True)
    assert slugs(inactive) == set()
    assert not is_uce_admin(inactive)


def test_ended_and_future_assignments_give_no_access(pod_a, pod_b):
    # Each assignment is read by its own pod's date, as the product does.
    today_a, today_b = pod_a.local_today(), pod_b.local_today()
    ended = AssignmentFactory(
        pod=pod_a, started_on=today_a - dt.timedelta(days=60), ended_on=today_a - dt.timedelta(days=2)
    )
    future = AssignmentFactory(pod=pod_b, started_on=today_b + dt.timedelta(days=5))
    assert slugs(ended.person) == set()
    assert slugs(future.person) == set()


def test_reassignment_moves_access_on_the_next_call(pod_a, pod_b, staff_a):
    assert current_assignment_of(staff_a).pod == pod_a
    # Effective yesterday in both pods' zones, so "today" is after the change in each of them.
    yesterday = min(pod_a.local_today(), pod_b.local_today()) - dt.timedelta(days=1)
    assignment_reassign(person=staff_a, pod=pod_b, job="adopt", effective_on=yesterday)
    assert slugs(staff_a) == {"dach"}
    assert current_assignment_of(staff_a).job == "adopt"
