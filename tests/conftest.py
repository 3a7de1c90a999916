"""Fixtures shared by every test layer: the roles of PRODUCT.md "Access"."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from pods.scoping import UCE_ADMINS_GROUP

from .factories import AssignmentFactory, PodFactory, UserFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: rolled-back data must not meet another test's rendered figures."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pod_a(db):
    return PodFactory(slug="southeast-us", name="Southeast US", timezone="America/New_York")


@pytest.fixture
def pod_b(db):
    return PodFactory(slug="dach", name="DACH", timezone="Europe/Berlin")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def group_admin(db):
    user = UserFactory(username="opsadmin", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=UCE_ADMINS_GROUP)[0])
    return user


@pytest.fixture
def leader_a(pod_a):
    user = UserFactory(username="leader-a")
    pod_a.leaders.add(user)
    return user


@pytest.fixture
def leader_ab(pod_a, pod_b):
    user = UserFactory(username="leader-ab")
    pod_a.leaders.add(user)
    pod_b.leaders.add(user)
    return user


@pytest.fixture
def staff_a(pod_a):
    return AssignmentFactory(person=UserFactory(username="staff-a"), pod=pod_a, job="learn").person


@pytest.fixture
def staff_b(pod_b):
    return AssignmentFactory(person=UserFactory(username="staff-b"), pod=pod_b, job="buy").person


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")
