"""API fuzzing: schemathesis drives every operation of the project's own OpenAPI schema, for every role.

Each operation gets generated requests, valid by the schema and deliberately invalid, against a small
world (two pods, an account, a contact and a fact of each kind per pod, targets, activities logged by
each role, a recomputation and an import), sent to the WSGI application as an admin, a leader of two
pods, a member of one pod and an anonymous caller. Path parameters are often swapped for real ids
and slugs, so changes and deletions reach rows that exist. Every response must pass:

- ``not_a_server_error``: no 5xx, whatever was sent;
- ``response_schema_conformance``: a documented response has the documented shape;
- ``ignored_auth``: without credentials, or with invalid ones, nothing succeeds.

Examples per operation are bounded (``EXAMPLES``) and the seed is fixed, so a run is repeatable and
stays within the suite's time budget; ``UCE_FUZZ_EXAMPLES=200`` runs a deeper search locally.
"""

import os
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, response_schema_conformance

from tests.access_matrix.world import build_world
from tests.support.factories import PodFactory

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("UCE_FUZZ_EXAMPLES", 10))
CHECKS = [not_a_server_error, response_schema_conformance, ignored_auth]
ROLES = ["admin", "leader_ab", "staff_a", "anonymous"]


@pytest.fixture(scope="module")
def api_schema():
    """The schema /api/schema/ serves, loaded into schemathesis and bound to the WSGI application."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = WSGIHandler()
    return schema


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests share the test's connection and transaction, as Django's test client arranges:
    the handler would otherwise close that connection when a request ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(pod_a, pod_b, admin_user, leader_a, leader_ab, staff_a, staff_b, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"  # uploads of POST /api/imports/ land here
    pods = {"A": pod_a, "B": pod_b, "C": PodFactory(slug="nordics-mx", name="Nordics MX")}
    users = {
        "admin": admin_user,
        "leader_a": leader_a,
        "leader_ab": leader_ab,
        "staff_a": staff_a,
        "staff_b": staff_b,
        "moved_ab": staff_a,  # the matrix's reassigned person is not needed here
    }
    return build_world(users, pods)


def real_values(world) -> dict[str, list]:
    """Values of each path parameter that name rows of the world (in scope for some role or other)."""
    facts = [world.leads, world.opportunities, world.orders, world.adoption_readings, world.tickets]
    return {
        "slug": [pod.slug for pod in world.pods.values()],
        "external_id": [row.external_id for rows in (world.accounts, world.contacts) for row in rows.values()],
        "id": sorted(
            {activity.pk for activity, _, _ in world.activities}
            | {row.pk for rows in facts for row in rows.values()}
            | {target.pk for target in world.targets.values()}
            | {recompute.pk for recompute in world.recomputes.values()}
            | {import_job.pk for import_job in world.imports}
        ),
    }


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 30, "the schema lost operations"
    return found


def fuzzer(operation, token: str | None, known: dict, tally: Counter):
    """A Hypothesis test of one operation: generated cases, path parameters often swapped for real ones."""
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    cases = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))

    @seed(20261122)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data):
        case = data.draw(cases)
        for name in list(case.path_parameters or {}):
            if name in known and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(known[name]))
        if token:
            # The role's real credentials instead of generated ones; marked explicit, so that ignored_auth
            # repeats each successful request without them and with invalid ones, expecting a refusal.
            (case.cookies or {}).pop("sessionid", None)
            case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}
            case._has_explicit_auth = True
        # Each request in a savepoint rolled back afterwards: every example meets the same world, and a
        # database error of one (a 500 to report) does not abort the test's transaction for the next.
        with transaction.atomic():
            try:
                response = case.call()
                tally["examples"] += 1
                tally["server errors"] += response.status_code >= 500
                case.validate_response(response, checks=CHECKS)
            finally:
                transaction.set_rollback(True)

    return fuzz


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_survives_fuzzing(role, api_schema, world, wsgi_in_test_transaction):
    user = world.users.get(role)
    token = Token.objects.create(user=user).key if user else None
    known = real_values(world)
    failures, tally = [], Counter()
    found = operations(api_schema)
    for operation in found:
        try:
            fuzzer(operation, token, known, tally)()
        except (Exception, BaseExceptionGroup) as error:  # all operations run; their failures are reported together
            failures.append(f"{operation.label}: {error}")
    print(
        f"\nAPI fuzzing: {tally['examples']} examples as {role} over {len(found)} operations, "
        f"{tally['server errors']} server errors, {len(failures)} operations failing a check"
    )
    assert not failures, f"{len(failures)} operations failed for {role}:\n\n" + "\n\n".join(failures)
