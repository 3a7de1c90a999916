"""All or nothing: one bad row and nothing is written; the report names every bad row by line and column."""

import os
import random

import pytest

from jobs.imports.parsing import MAX_REPORTED_ERRORS
from jobs.imports.services import import_file
from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from metrics.models import Target
from pods.models import Account, Assignment, Pod, User
from tests.support.factories import AccountFactory, ContactFactory, PodFactory, UserFactory

from .conftest import table_dump

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(db):
    southeast = PodFactory(slug="southeast-us", timezone="America/New_York")
    dach = PodFactory(slug="dach", timezone="Europe/Berlin")
    acme = AccountFactory(external_id="ACME", pod=southeast)
    mueller = AccountFactory(external_id="MUELLER", pod=dach)
    ContactFactory(external_id="C-ACME", account=acme)
    ContactFactory(external_id="C-MUELLER", account=mueller)
    UserFactory(username="mlopez")
    return {"southeast": southeast, "dach": dach, "acme": acme, "mueller": mueller}


def rejected(kind, path):
    result = import_file(kind, path)
    assert not result.succeeded, "the file was imported"
    return result


def where(result):
    """(line, column) of each reported error, in report order."""
    return [(error["line"], error["column"]) for error in result.errors]


ACTIVITY_HEADER = "external_id,occurred_at,account,job,channel,kind\n"


def test_one_bad_row_among_ten_thousand_writes_nothing_and_is_named(accounts, csv_file):
    seed = int.from_bytes(os.urandom(4), "big")
    bad_line = random.Random(seed).randrange(2, 10_002)  # a data line: 2 .. 10001
    lines = [ACTIVITY_HEADER]
    for line in range(2, 10_002):
        occurred = "2026-03-01T09:30:00" if line == bad_line else "2026-03-01T09:30:00-05:00"  # naive: refused
        lines.append(f"ACT-{line},{occurred},ACME,learn,digital,call\n")
    before = table_dump()
    result = rejected("activities", csv_file("".join(lines)))
    assert where(result) == [(bad_line, "occurred_at")], f"seed {seed}"
    assert "offset" in result.errors[0]["message"]
    assert result.rows == 10_000
    assert table_dump() == before
    assert not Activity.objects.exists()


def test_every_kind_of_problem_in_one_file_is_reported_at_once(accounts, csv_file):
    path = csv_file(
        """
        external_id,occurred_at,account,job,channel,kind,staff,contact,minutes
        ACT-1,2026-03-01T09:30:00-05:00,ACME,learn,digital,call,mlopez,C-ACME,30
        ACT-2,2026-03-01T09:30:00,ACME,learn,digital,call,,,
        ACT-3,2026-03-01T09:30:00Z,NOPE,learn,digital,call,,,
        ACT-4,2026-03-01T09:30:00Z,ACME,learn,carrier-pigeon,call,,,
        ACT-5,2026-03-01T09:30:00Z,ACME,learn,digital,call,,,-5
        ACT-6,2026-03-01T09:30:00Z,ACME,learn
        ACT-1,2026-03-02T09:30:00Z,ACME,buy,digital,call,,,
        ACT-8,2026-03-01T09:30:00Z,ACME,learn,digital,call,ghost,,
        ACT-9,2026-03-01T09:30:00Z,ACME,learn,digital,call,,C-NOPE,
        ACT-10,2026-03-01T09:30:00Z,ACME,learn,digital,call,,C-MUELLER,
        ACT-11,2026-03-01T09:30:00Z,ACME,learn,digital,,,,
        ACT-12,yesterday,ACME,sell,fax,call,,,1.5
        ACT-13,2026-03-01T09:30:00Z,ACME,support,partner,call,,,
        """
    )
    result = rejected("activities", path)
    assert where(result) == [
        (3, "occurred_at"),  # naive timestamp
        (4, "account"),  # unknown account
        (5, "channel"),  # not a channel code
        (6, "minutes"),  # negative
        (7, None),  # too few values
        (8, "external_id"),  # repeats line 2
        (9, "staff"),  # unknown user
        (10, "contact"),  # unknown contact
        (11, "contact"),  # a contact of another account
        (12, "kind"),  # required and empty
        (13, "occurred_at"),
        (13, "job"),
        (13, "channel"),
        (13, "minutes"),
    ]
    assert result.error_count == 14
    messages = {(error["line"], error["column"]): error["message"] for error in result.errors}
    assert "NOPE" in messages[(4, "account")]
    assert "carrier-pigeon" in messages[(5, "channel")]
    assert "line 2" in messages[(8, "external_id")]
    assert "ghost" in messages[(9, "staff")]
    assert "C-NOPE" in messages[(10, "contact")]
    assert not Activity.objects.exists()


def test_unknown_references_are_reported_with_their_lines_for_every_kind_that_has_them(accounts, csv_file):
    files = {
        "contacts": "external_id,account,persona\nC-1,ACME,champion\nC-2,GHOST,champion\n",
        "accounts": "external_id,name,pod\nA-1,One,southeast-us\nA-2,Two,atlantis\n",
        "leads": "external_id,account,created_at,channel,status\nL-1,GHOST,2026-01-01T00:00:00Z,digital,open\n",
        "opportunities": "external_id,account,amount,created_at,status\nO-1,ACME,1,2026-01-01T00:00:00Z,open\n"
        "O-2,GHOST,1,2026-01-01T00:00:00Z,open\n",
        "orders": "external_id,account,ordered_at\nORD-1,GHOST,2026-01-01T00:00:00Z\n",
        "adoption": "account,measured_on,licensed_seats,active_seats\nGHOST,2026-01-01,1,1\n",
        "tickets": "external_id,account,opened_at,channel\nT-1,GHOST,2026-01-01T00:00:00Z,digital\n",
        "targets": "pod,metric,grain,period_start,value\natlantis,lead_volume,month,2026-01-01,5\n",
        "staff": "username,pod,job,started_on\nnew,southeast-us,learn,2026-01-01\nother,atlantis,learn,2026-01-01\n",
    }
    expected = {
        "contacts": [(3, "account")],
        "accounts": [(3, "pod")],
        "leads": [(2, "account")],
        "opportunities": [(3, "account")],
        "orders": [(2, "account")],
        "adoption": [(2, "account")],
        "tickets": [(2, "account")],
        "targets": [(2, "pod")],
        "staff": [(3, "pod")],
    }
    before = table_dump()
    for kind, text in files.items():
        result = rejected(kind, csv_file(text))
        assert where(result) == expected[kind], kind
        assert "Unknown" in result.errors[0]["message"]
    assert table_dump() == before


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (
            "leads",
            "external_id,account,created_at,channel,status,decided_at\n"
            "L-1,ACME,2026-03-05T00:00:00Z,digital,accepted,2026-03-04T00:00:00Z\n"
            "L-2,ACME,2026-03-05T00:00:00Z,digital,rejected,\n"
            "L-3,ACME,2026-03-05T00:00:00Z,email,maybe,\n",
            [(2, "decided_at"), (3, "decided_at"), (4, "channel"), (4, "status")],
        ),
        (
            "opportunities",
            "external_id,account,amount,created_at,status,closed_at\n"
            "O-1,ACME,10.999,2026-03-05T00:00:00Z,open,\n"
            "O-2,ACME,-1,2026-03-05T00:00:00Z,open,\n"
            "O-3,ACME,1e3,2026-03-05T00:00:00Z,won,\n"
            "O-4,ACME,12.50,2026-03-05T00:00:00Z,lost,2026-03-01T00:00:00Z\n"
            "O-5,ACME,10.50,2026-03-05,open,\n",
            [(2, "amount"), (3, "amount"), (4, "amount"), (4, "closed_at"), (5, "closed_at"), (6, "created_at")],
        ),
        (
            "orders",
            "external_id,account,ordered_at,installed_at,seats\n"
            "ORD-1,ACME,2026-03-05T00:00:00Z,2026-03-04T23:00:00Z,10\n"
            "ORD-2,ACME,2026-03-05T00:00:00Z,,ten\n"
            "ORD-3,ACME,2026-03-05T00:00:00+01:00,2026-03-04T23:30:00Z,3000000000\n",
            [(2, "installed_at"), (3, "seats"), (4, "seats")],
        ),
        (
            "tickets",
            "external_id,account,opened_at,resolved_at,csat,channel\n"
            "T-1,ACME,2026-03-05T00:00:00Z,2026-03-04T00:00:00Z,5,digital\n"
            "T-2,ACME,2026-03-05T00:00:00Z,,6,digital\n"
            "T-3,ACME,2026-03-05T00:00:00Z,,0,digital\n",
            [(2, "resolved_at"), (3, "csat"), (4, "csat")],
        ),
        (
            "adoption",
            "account,measured_on,licensed_seats,active_seats\n"
            "ACME,2026-03-05,10,5\n"
            "ACME,2026-03-05,10,6\n"
            "ACME,2026-3-6,-1,x\n"
            "ACME,2026-02-30,1,1\n",
            [(3, "measured_on"), (4, "measured_on"), (4, "licensed_seats"), (4, "active_seats"), (5, "measured_on")],
        ),
        (
            "targets",
            "pod,metric,grain,period_start,value\n"
            "southeast-us,lead_volume,month,2026-03-15,5\n"
            "southeast-us,activities,month,2026-03-01,5\n"
            "southeast-us,win_rate,fortnight,2026-03-01,0.5\n"
            "southeast-us,lead_volume,week,2026-03-04,5\n"
            "dach,lead_volume,quarter,2026-04-01,5\n"
            "dach,lead_volume,quarter,2026-04-01,6\n",
            [(2, "period_start"), (3, "metric"), (4, "grain"), (5, "period_start"), (7, "period_start")],
        ),
        (
            "pods",
            "slug,name,timezone,leaders\n"
            "mars,Mars,Mars/Olympus_Mons,\n"
            "not a slug,Moon,UTC,\n"
            "venus,,UTC,bad!name\n"
            "mars,Mars again,UTC,\n",
            [(2, "timezone"), (3, "slug"), (4, "name"), (4, "leaders"), (5, "slug")],
        ),
        (
            "staff",
            "username,email,pod,job,started_on\n"
            "ann,not-an-email,southeast-us,learn,2026-01-01\n"
            "bob,,southeast-us,marketing,01/02/2026\n"
            "ann,,dach,buy,2026-02-01\n",
            [(2, "email"), (3, "job"), (3, "started_on"), (4, "username")],
        ),
        (
            "contacts",
            "external_id,account,name,email,persona\nC-9,ACME,Ann,ann@,buyer\n",
            [(2, "email"), (2, "persona")],
        ),
    ],
)
def test_each_rule_of_the_interchange_is_enforced(accounts, csv_file, kind, text, expected):
    before = table_dump()
    result = rejected(kind, csv_file(text))
    assert where(result) == expected
    assert table_dump() == before


def test_a_staff_import_refused_by_the_assignment_history_writes_nothing(accounts, csv_file):
    # mlopez already moved on 2026-03-01; a file saying she started somewhere on 2026-02-01 contradicts it.
    csv = "username,pod,job,started_on\n{}\n"
    assert import_file("staff", csv_file(csv.format("mlopez,dach,learn,2026-03-01"))).succeeded
    result = rejected("staff", csv_file(csv.format("zed,dach,buy,2026-01-01\nmlopez,southeast-us,buy,2026-02-01")))
    assert where(result) == [(3, "started_on")]
    assert not User.objects.filter(username="zed").exists()
    assert list(Assignment.objects.values_list("person__username", "pod__slug")) == [("mlopez", "dach")]


def test_header_problems_are_all_reported_on_line_1(accounts, csv_file):
    result = rejected("accounts", csv_file("external_id,name,colour,name,\nA-1,One,red,One,\n"))
    assert where(result) == [(1, "colour"), (1, "name"), (1, None), (1, "pod")]
    messages = [error["message"] for error in result.errors]
    assert "Unknown column" in messages[0]
    assert "more than once" in messages[1]
    assert "Required column" in messages[3]
    assert not Account.objects.filter(external_id="A-1").exists()


def test_an_empty_file_is_refused(csv_file):
    result = rejected("pods", csv_file(b""))
    assert where(result) == [(1, None)]


def test_a_utf16_file_is_refused_with_one_clear_error(accounts, csv_file):
    text = "slug,name,timezone\nnordics,Nordics,Europe/Stockholm\n"
    for encoded in (text.encode("utf-16"), text.encode("utf-16-le")):  # with and without a BOM
        result = rejected("pods", csv_file(encoded))
        assert result.error_count == 1
        assert "UTF-16" in result.errors[0]["message"]
    assert not Pod.objects.filter(slug="nordics").exists()


def test_invalid_utf8_is_refused_naming_the_line(accounts, csv_file):
    path = csv_file("external_id,name,pod\nA-1,One,dach\nA-2,Müller,dach\n".encode("latin-1"))
    result = rejected("accounts", path)
    assert where(result) == [(3, None)]
    assert "UTF-8" in result.errors[0]["message"]
    assert not Account.objects.filter(external_id="A-1").exists()


def test_broken_csv_quoting_is_refused(accounts, csv_file):
    result = rejected("accounts", csv_file('external_id,name,pod\nA-1,"One"x,dach\n'))
    assert where(result) == [(2, None)]
    assert "CSV" in result.errors[0]["message"]


def test_a_report_keeps_the_first_thousand_errors_and_counts_the_rest(accounts, csv_file):
    rows = "".join(f"O-{n},ACME,-{n + 1},2026-03-05T00:00:00Z,open\n" for n in range(1500))
    result = rejected("opportunities", csv_file("external_id,account,amount,created_at,status\n" + rows))
    assert result.error_count == 1500
    assert len(result.errors) == MAX_REPORTED_ERRORS
    assert [error["line"] for error in result.errors] == list(range(2, 2 + MAX_REPORTED_ERRORS))


def test_row_and_reference_errors_are_merged_in_line_order(accounts, csv_file):
    rows = [
        f"O-{n},{'GHOST' if n % 2 else 'ACME'},{-1 if n % 3 == 0 else 1},2026-03-05T00:00:00Z,open\n" for n in range(12)
    ]
    result = rejected("opportunities", csv_file("external_id,account,amount,created_at,status\n" + "".join(rows)))
    expected = []
    for n in range(12):
        line = n + 2
        if n % 2:
            expected.append((line, "account"))  # found in SQL
        if n % 3 == 0:
            expected.append((line, "amount"))  # found while reading; after account in the file's column order
    assert where(result) == expected


def test_nothing_of_an_earlier_valid_kind_is_lost_when_a_later_file_fails(accounts, csv_file):
    assert import_file(
        "leads", csv_file("external_id,account,created_at,channel,status\nL-1,ACME,2026-01-01T00:00:00Z,digital,open\n")
    ).succeeded
    rejected(
        "leads", csv_file("external_id,account,created_at,channel,status\nL-1,ACME,2026-01-01T00:00:00Z,digital,won\n")
    )
    assert Lead.objects.get(external_id="L-1").status == "open"
    for model in (Opportunity, Order, AdoptionReading, SupportTicket, Target):
        assert not model.objects.exists()


def test_values_spanning_lines_and_blank_lines_keep_the_line_numbers_of_the_file(accounts, csv_file):
    path = csv_file(
        "external_id,occurred_at,account,job,channel,kind,notes\n"  # 1
        'ACT-1,2026-03-01T09:30:00Z,ACME,learn,digital,call,"first\n'  # 2
        "second\n"  # 3
        'third"\n'  # 4
        "\n"  # 5
        "ACT-2,2026-03-01T09:30:00Z,GHOST,learn,digital,call,\n"  # 6
        'ACT-3,2026-03-01T09:30:00Z,ACME,learn,fax,call,"a note\n'  # 7
        'on two lines"\n'  # 8
        "ACT-4,2026-03-01T09:30:00,ACME,learn,digital,call,\n"  # 9
        "ACT-1,2026-03-01T09:30:00Z,ACME,learn,digital,call,\n"  # 10
    )
    result = rejected("activities", path)
    assert where(result) == [(6, "account"), (7, "channel"), (9, "occurred_at"), (10, "external_id")]
    assert "line 2" in result.errors[-1]["message"]
    assert result.rows == 5


def test_a_refused_username_is_named_on_every_line_that_has_it(accounts, csv_file):
    rows = "".join(
        f"ACT-{n},2026-03-01T09:30:00Z,ACME,learn,digital,call,{'not a name!' if n % 3 == 0 else 'mlopez'}\n"
        for n in range(9)
    )
    result = rejected("activities", csv_file(ACTIVITY_HEADER.rstrip("\n") + ",staff\n" + rows))
    assert where(result) == [(2, "staff"), (5, "staff"), (8, "staff")]
    assert {error["message"] for error in result.errors} == {'"not a name!" is not a valid username.'}


def test_invalid_utf8_far_into_the_file_is_named_by_its_line(accounts, csv_file):
    rows = [f"A-{n},Account {n},dach\n".encode() for n in range(20_000)]
    rows[15_000] = "A-15000,Müller,dach\n".encode("latin-1")  # line 15002
    result = rejected("accounts", csv_file(b"external_id,name,pod\n" + b"".join(rows)))
    assert where(result) == [(15_002, None)]
    assert "Line 15002 is not valid UTF-8" in result.errors[0]["message"]


def test_a_nul_byte_far_into_the_file_is_named_by_its_line(accounts, csv_file):
    rows = [f"A-{n},Account {n},dach\n".encode() for n in range(20_000)]
    rows[12_345] = b"A-12345,Acc\x00ount,dach\n"
    result = rejected("accounts", csv_file(b"external_id,name,pod\n" + b"".join(rows)))
    assert where(result) == [(12_347, None)]
    assert "NUL" in result.errors[0]["message"]
    assert not Account.objects.filter(external_id="A-1").exists()


def test_every_error_is_counted_and_the_report_keeps_the_first_by_line(accounts, csv_file):
    """Errors of several kinds (cells, rows, references, repeated keys) past the report's limit."""
    rows = []
    for n in range(3000):
        account = "GHOST" if n % 2 else "ACME"
        status = "won" if n % 3 == 0 else "open"  # won needs closed_at
        rows.append(f"O-{n % 2500},{account},1,2026-03-05T00:00:00Z,{status}\n")
    result = rejected("opportunities", csv_file("external_id,account,amount,created_at,status\n" + "".join(rows)))
    expected = 1500 + 1000 + 500  # unknown accounts, missing closed_at, repeated external_ids
    assert result.error_count == expected
    assert len(result.errors) == MAX_REPORTED_ERRORS
    lines = [error["line"] for error in result.errors]
    assert lines == sorted(lines)
    assert lines[0] == 2
    assert not Opportunity.objects.exists()
