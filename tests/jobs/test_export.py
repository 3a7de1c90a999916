"""CSV export of activities: /activities/export.csv is scoped, filtered, streamed and safe to open in a spreadsheet."""

import csv
import datetime as dt
import io

import pytest

from jobs.csv_safety import safe_cell
from tests.support.factories import AccountFactory, ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/activities/export.csv"
COLUMNS = [
    "external_id",
    "occurred_at",
    "account",
    "job",
    "channel",
    "kind",
    "staff",
    "contact",
    "minutes",
    "notes",
    "pod",
]


def export(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="activities-')
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_safe_cell_prefixes_what_a_spreadsheet_would_run(typed, written):
    assert safe_cell(typed) == written


def test_safe_cell_leaves_numbers_alone_and_empties_none():
    assert safe_cell(-5) == -5
    assert safe_cell(None) == ""


def test_cells_that_could_run_as_formulas_are_prefixed_with_a_quote(client, pod_a, staff_a):
    account = AccountFactory(pod=pod_a, external_id="-ACC-1")
    ActivityFactory(
        account=account,
        staff=staff_a,
        kind="+call",
        notes='=HYPERLINK("http://evil.example","click")',
        external_id="@CRM-1",
        contact=ContactFactory(account=account, external_id="=C-1"),
    )
    (row,) = export(client, staff_a)
    assert row["notes"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["kind"] == "'+call"
    assert row["account"] == "'-ACC-1"
    assert row["external_id"] == "'@CRM-1"
    assert row["contact"] == "'=C-1"


def test_a_row_carries_the_interchange_columns_and_the_pod(client, pod_a, staff_a):
    account = AccountFactory(pod=pod_a, external_id="SE-1")
    ActivityFactory(
        account=account,
        staff=staff_a,
        external_id="CRM-1",
        occurred_at=dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC),
        job="buy",
        channel="in_person",
        kind="demo",
        minutes=45,
        notes="line one\nline two, with a comma",
    )
    ActivityFactory(account=account, staff=None, external_id=None, occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    rows = export(client, staff_a)
    assert rows[0] == {
        "external_id": "CRM-1",
        "occurred_at": "2026-03-02T09:30:00-05:00",  # the pod's local time, with its offset
        "account": "SE-1",
        "job": "buy",
        "channel": "in_person",
        "kind": "demo",
        "staff": "staff-a",
        "contact": "",
        "minutes": "45",
        "notes": "line one\nline two, with a comma",
        "pod": "southeast-us",
    }
    assert (rows[1]["external_id"], rows[1]["staff"], rows[1]["minutes"]) == ("", "", "")


def test_only_activities_the_user_may_see_are_exported(client, pod_a, pod_b, staff_a, leader_ab, outsider):
    ActivityFactory(account=AccountFactory(pod=pod_a), external_id="SE")
    ActivityFactory(account=AccountFactory(pod=pod_b), external_id="DE")
    assert {row["external_id"] for row in export(client, staff_a)} == {"SE"}
    assert {row["external_id"] for row in export(client, leader_ab)} == {"SE", "DE"}
    assert export(client, outsider) == []


def test_the_lists_filters_apply(client, pod_a, pod_b, admin_user):
    march = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    ActivityFactory(account=AccountFactory(pod=pod_a), external_id="A-LEARN", job="learn", occurred_at=march)
    ActivityFactory(
        account=AccountFactory(pod=pod_a), external_id="A-BUY", job="buy", occurred_at=march + dt.timedelta(days=30)
    )
    ActivityFactory(account=AccountFactory(pod=pod_b), external_id="B-BUY", job="buy", occurred_at=march)

    def exported(**params):
        return {row["external_id"] for row in export(client, admin_user, **params)}

    assert exported(job="buy") == {"A-BUY", "B-BUY"}
    assert exported(pod="southeast-us") == {"A-LEARN", "A-BUY"}
    assert exported(since="2026-04-01T00:00:00Z") == {"A-BUY"}
    assert exported(job="buy", pod="dach") == {"B-BUY"}


def test_invalid_filters_are_refused_rather_than_exporting_everything(client, admin_user):
    client.force_login(admin_user)
    response = client.get(URL, {"since": "last tuesday"})
    assert response.status_code == 400
    assert "since" in response.content.decode()


def test_anonymous_visitors_get_no_export(client, pod_a):
    ActivityFactory(account=AccountFactory(pod=pod_a))
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/auth/login/")
