"""Fixtures shared by every test layer: the roles of PRODUCT.md "Access", and the clock.

``UCE_TEST_NOW`` (an ISO 8601 instant) runs the whole session as if the clock read it, ticking from
there: ``make test`` runs the suites that depend on "today" again at the dates of
``tests/calendar/dates.py`` (``make test-calendar``).
"""

import datetime as dt
import os

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache

from pods.scoping import UCE_ADMINS_GROUP

from .support.factories import AssignmentFactory, PodFactory, UserFactory
from .support.smtp import SmtpSink

_travel = None


def pytest_configure(config):
    """Freeze the clock at ``UCE_TEST_NOW`` before test modules are imported (module constants see it)."""
    global _travel
    instant = os.environ.get("UCE_TEST_NOW")
    if instant:
        _travel = time_machine.travel(dt.datetime.fromisoformat(instant), tick=True)
        _travel.start()


def pytest_unconfigure(config):
    if _travel is not None:
        _travel.stop()


def pytest_report_header(config):
    instant = os.environ.get("UCE_TEST_NOW")
    return f"clock: frozen at {instant} (UCE_TEST_NOW), ticking" if instant else "clock: the real one"


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


@pytest.fixture(scope="session")
def smtp_sink_process(tmp_path_factory):
    """One real SMTP server (aiosmtpd, another process, on loopback) for the session; stopped at its end."""
    with SmtpSink.start(tmp_path_factory.mktemp("smtp")) as sink:
        yield sink


@pytest.fixture
def smtp_server(smtp_sink_process, settings):
    """Django's SMTP backend pointed at the session's server, which starts the test with no messages.

    Yields the ``SmtpSink`` (tests/support/smtp.py): ``host``, ``port``, ``messages()``, ``wait_for(count)``,
    ``clear()``. Only this process's settings change: a real Celery worker keeps its locmem backend.
    """
    smtp_sink_process.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_sink_process.host
    settings.EMAIL_PORT = smtp_sink_process.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    yield smtp_sink_process
    smtp_sink_process.clear()
