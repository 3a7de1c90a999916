"""Every kind of INTERCHANGE.md imports a valid file; importing it again changes nothing; changed rows are updated."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from jobs.imports.services import import_file
from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from jobs.signals import facts_bulk_written
from metrics.models import Target
from pods.models import Account, Assignment, Contact, Pod, User

from .conftest import table_dump

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def at(*args, offset_hours=0):
    return dt.datetime(*args, tzinfo=dt.timezone(dt.timedelta(hours=offset_hours)))


# One file per kind, in the order an organisation would load them; columns deliberately out of order in places.
VALID_FILES = {
    "pods": """
        slug,name,timezone,territory,leaders
        southeast-us,Southeast US,America/New_York,US-FL US-GA US-AL,jreyes mlopez
        dach,DACH,Europe/Berlin,DE AT CH,jreyes
    """,
    "staff": """
        username,full_name,email,pod,job,started_on
        mlopez,Maria Lopez,maria@example.com,southeast-us,learn,2026-01-05
        sam,Sam Carter,,southeast-us,buy,2026-01-05
        jonas,Jonas Weber,jonas@example.com,dach,support,2026-02-01
    """,
    "accounts": """
        external_id,name,pod,segment
        ACME,Acme Corp,southeast-us,Enterprise
        GLOBEX,Globex,southeast-us,
        MUELLER,Müller GmbH,dach,Mid-market
    """,
    "contacts": """
        external_id,account,name,email,persona
        C-1,ACME,Wile E. Coyote,wile@acme.example,champion
        C-2,MUELLER,Anna Müller,,executive
    """,
    "activities": """
        occurred_at,external_id,account,job,channel,kind,staff,contact,minutes,notes
        2026-03-01T09:30:00-05:00,ACT-1,ACME,learn,digital,webinar,mlopez,C-1,45,"Asked about pricing, twice"
        2026-03-02T14:00:00Z,ACT-2,MUELLER,support,in_person,health_check,jonas,,,
    """,
    "leads": """
        external_id,account,created_at,channel,status,decided_at,rejection_reason
        L-1,ACME,2026-03-01T10:00:00-05:00,digital,accepted,2026-03-03T10:00:00-05:00,
        L-2,GLOBEX,2026-03-02T10:00:00-05:00,partner,rejected,2026-03-04T09:00:00-05:00,No budget this year
        L-3,MUELLER,2026-03-05T08:00:00+01:00,digital,open,,
    """,
    "opportunities": """
        external_id,account,name,amount,created_at,status,closed_at
        O-1,ACME,Acme rollout,125000.50,2026-03-03T10:00:00-05:00,won,2026-04-15T16:00:00-04:00
        O-2,MUELLER,,9800,2026-03-10T09:00:00+01:00,open,
    """,
    "orders": """
        external_id,account,ordered_at,installed_at,seats
        ORD-1,ACME,2026-04-16T09:00:00-04:00,2026-04-30T12:00:00-04:00,250
        ORD-2,MUELLER,2026-04-20T09:00:00+02:00,,
    """,
    "adoption": """
        account,measured_on,licensed_seats,active_seats
        ACME,2026-05-01,250,180
        ACME,2026-06-01,250,210
        MUELLER,2026-05-01,40,0
    """,
    "tickets": """
        external_id,account,opened_at,resolved_at,csat,channel
        T-1,ACME,2026-05-02T09:00:00-04:00,2026-05-02T15:30:00-04:00,5,digital
        T-2,MUELLER,2026-05-03T10:00:00+02:00,,,partner
    """,
    "targets": """
        pod,metric,grain,period_start,value
        southeast-us,lead_volume,month,2026-03-01,40
        southeast-us,lead_acceptance_rate,quarter,2026-01-01,0.65
        dach,bookings,year,2026-01-01,500000
        dach,tickets_resolved,week,2026-03-02,12
    """,
}


def import_ok(kind, path):
    result = import_file(kind, path)
    assert result.succeeded, result.errors
    return result


@pytest.fixture
def organisation(csv_file):
    """Every valid file imported in order; returns the files."""
    files = {kind: csv_file(text, name=f"{kind}.csv") for kind, text in VALID_FILES.items()}
    for kind, path in files.items():
        import_ok(kind, path)
    return files


def test_every_kind_is_imported_as_the_file_says(organisation):
    southeast, dach = Pod.objects.get(slug="southeast-us"), Pod.objects.get(slug="dach")
    assert (southeast.name, southeast.timezone, southeast.territory) == (
        "Southeast US",
        "America/New_York",
        "US-FL US-GA US-AL",
    )
    assert set(southeast.leaders.values_list("username", flat=True)) == {"jreyes", "mlopez"}
    assert set(dach.leaders.values_list("username", flat=True)) == {"jreyes"}
    assert not User.objects.get(username="jreyes").has_usable_password()

    maria = User.objects.get(username="mlopez")
    assert (maria.full_name, maria.email) == ("Maria Lopez", "maria@example.com")
    assert set(Assignment.objects.values_list("person__username", "pod__slug", "job", "started_on", "ended_on")) == {
        ("mlopez", "southeast-us", "learn", dt.date(2026, 1, 5), None),
        ("sam", "southeast-us", "buy", dt.date(2026, 1, 5), None),
        ("jonas", "dach", "support", dt.date(2026, 2, 1), None),
    }

    assert set(Account.objects.values_list("external_id", "name", "pod__slug", "segment")) == {
        ("ACME", "Acme Corp", "southeast-us", "Enterprise"),
        ("GLOBEX", "Globex", "southeast-us", ""),
        ("MUELLER", "Müller GmbH", "dach", "Mid-market"),
    }
    assert set(Contact.objects.values_list("external_id", "account__external_id", "name", "email", "persona")) == {
        ("C-1", "ACME", "Wile E. Coyote", "wile@acme.example", "champion"),
        ("C-2", "MUELLER", "Anna Müller", "", "executive"),
    }

    webinar = Activity.objects.get(external_id="ACT-1")
    assert webinar.occurred_at == dt.datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    assert (webinar.pod, webinar.account.external_id, webinar.job, webinar.channel, webinar.kind) == (
        southeast,
        "ACME",
        "learn",
        "digital",
        "webinar",
    )
    assert (webinar.staff, webinar.contact.external_id, webinar.minutes) == (maria, "C-1", 45)
    assert webinar.notes == "Asked about pricing, twice"
    check = Activity.objects.get(external_id="ACT-2")
    assert (check.pod, check.staff.username, check.contact, check.minutes, check.notes) == (
        dach,
        "jonas",
        None,
        None,
        "",
    )

    assert set(Lead.objects.values_list("external_id", "pod__slug", "status", "decided_at", "rejection_reason")) == {
        ("L-1", "southeast-us", "accepted", at(2026, 3, 3, 10, offset_hours=-5), ""),
        ("L-2", "southeast-us", "rejected", at(2026, 3, 4, 9, offset_hours=-5), "No budget this year"),
        ("L-3", "dach", "open", None, ""),
    }
    assert set(Opportunity.objects.values_list("external_id", "name", "amount", "status", "closed_at")) == {
        ("O-1", "Acme rollout", Decimal("125000.50"), "won", at(2026, 4, 15, 16, offset_hours=-4)),
        ("O-2", "", Decimal("9800.00"), "open", None),
    }
    assert set(Order.objects.values_list("external_id", "pod__slug", "installed_at", "seats")) == {
        ("ORD-1", "southeast-us", at(2026, 4, 30, 12, offset_hours=-4), 250),
        ("ORD-2", "dach", None, None),
    }
    assert set(
        AdoptionReading.objects.values_list("account__external_id", "measured_on", "licensed_seats", "active_seats")
    ) == {
        ("ACME", dt.date(2026, 5, 1), 250, 180),
        ("ACME", dt.date(2026, 6, 1), 250, 210),
        ("MUELLER", dt.date(2026, 5, 1), 40, 0),
    }
    assert set(SupportTicket.objects.values_list("external_id", "pod__slug", "resolved_at", "csat", "channel")) == {
        ("T-1", "southeast-us", at(2026, 5, 2, 15, 30, offset_hours=-4), 5, "digital"),
        ("T-2", "dach", None, None, "partner"),
    }
    assert set(Target.objects.values_list("pod__slug", "metric", "grain", "period_start", "value")) == {
        ("southeast-us", "lead_volume", "month", dt.date(2026, 3, 1), Decimal("40")),
        ("southeast-us", "lead_acceptance_rate", "quarter", dt.date(2026, 1, 1), Decimal("0.65")),
        ("dach", "bookings", "year", dt.date(2026, 1, 1), Decimal("500000")),
        ("dach", "tickets_resolved", "week", dt.date(2026, 3, 2), Decimal("12")),
    }


@pytest.mark.parametrize("kind", list(VALID_FILES))
def test_importing_a_file_again_writes_nothing(organisation, kind):
    before = table_dump()
    result = import_ok(kind, organisation[kind])
    assert table_dump() == before
    assert (result.created, result.updated) == (0, 0)
    assert result.unchanged == len(VALID_FILES[kind].strip().splitlines()) - 1


def test_the_first_import_reports_every_row_as_new(csv_file):
    result = import_ok("pods", csv_file(VALID_FILES["pods"]))
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    assert result.summary() == "2 rows imported (2 new, 0 updated, 0 unchanged)"


def test_a_changed_row_is_updated_and_a_fact_keeps_the_pod_it_was_created_under(organisation, csv_file):
    # Acme moves to DACH: its existing facts stay in Southeast US, new ones are created in DACH.
    import_ok("accounts", csv_file("external_id,name,pod\nACME,Acme Corp,dach\n"))
    result = import_ok(
        "activities",
        csv_file(
            """
            external_id,occurred_at,account,job,channel,kind,notes
            ACT-1,2026-03-01T09:30:00-05:00,ACME,learn,digital,webinar,Asked about pricing three times
            ACT-3,2026-06-01T09:00:00-04:00,ACME,adopt,in_person,training,
            ACT-2,2026-03-02T14:00:00Z,MUELLER,support,in_person,health_check,
            """
        ),
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    updated = Activity.objects.get(external_id="ACT-1")
    assert updated.notes == "Asked about pricing three times"
    assert updated.pod.slug == "southeast-us"
    assert Activity.objects.get(external_id="ACT-3").pod.slug == "dach"
    # Columns absent from the file are left as they were; staff and contact were not in it.
    assert (updated.staff.username, updated.contact.external_id, updated.minutes) == ("mlopez", "C-1", 45)
    assert Account.objects.get(external_id="ACME").segment == "Enterprise"


def test_an_update_moving_a_fact_to_an_account_of_another_pod_keeps_its_pod(organisation, csv_file):
    import_ok(
        "leads",
        csv_file("external_id,account,created_at,channel,status\nL-3,ACME,2026-03-05T08:00:00+01:00,digital,open\n"),
    )
    lead = Lead.objects.get(external_id="L-3")
    assert (lead.account.external_id, lead.pod.slug) == ("ACME", "dach")


def test_an_empty_optional_cell_clears_the_value(organisation, csv_file):
    import_ok("accounts", csv_file("external_id,name,pod,segment\nACME,Acme Corp,southeast-us,\n"))
    assert Account.objects.get(external_id="ACME").segment == ""


def test_adoption_is_one_reading_per_account_and_day_updated_in_place(organisation, csv_file):
    result = import_ok(
        "adoption", csv_file("account,measured_on,licensed_seats,active_seats\nACME,2026-05-01,300,290\n")
    )
    assert (result.created, result.updated) == (0, 1)
    assert AdoptionReading.objects.filter(account__external_id="ACME", measured_on=dt.date(2026, 5, 1)).count() == 1
    reading = AdoptionReading.objects.get(account__external_id="ACME", measured_on=dt.date(2026, 5, 1))
    assert (reading.licensed_seats, reading.active_seats, reading.pod.slug) == (300, 290, "southeast-us")


def test_a_target_is_updated_by_pod_metric_grain_and_period(organisation, csv_file):
    import_ok(
        "targets", csv_file("pod,metric,grain,period_start,value\nsoutheast-us,lead_volume,month,2026-03-01,55\n")
    )
    assert Target.objects.get(pod__slug="southeast-us", metric="lead_volume").value == Decimal("55")
    assert Target.objects.count() == 4


def test_staff_moving_pod_end_their_assignment_and_start_a_new_one(organisation, csv_file):
    result = import_ok(
        "staff", csv_file("username,pod,job,started_on\nmlopez,dach,buy,2026-04-01\nnewhire,dach,learn,2026-04-01\n")
    )
    assert (result.created, result.updated) == (1, 1)
    assert list(
        Assignment.objects.filter(person__username="mlopez")
        .order_by("started_on")
        .values_list("pod__slug", "job", "started_on", "ended_on")
    ) == [
        ("southeast-us", "learn", dt.date(2026, 1, 5), dt.date(2026, 4, 1)),
        ("dach", "buy", dt.date(2026, 4, 1), None),
    ]
    # Name and e-mail were not in the file: kept.
    assert User.objects.get(username="mlopez").full_name == "Maria Lopez"
    newhire = User.objects.get(username="newhire")
    assert not newhire.has_usable_password()
    assert list(newhire.assignments.values_list("pod__slug", "job", "ended_on")) == [("dach", "learn", None)]


def test_a_pods_leaders_become_exactly_the_listed_ones(organisation, csv_file):
    result = import_ok("pods", csv_file("slug,name,timezone,leaders\ndach,DACH,Europe/Berlin,mlopez newboss\n"))
    assert (result.created, result.updated) == (0, 1)
    dach = Pod.objects.get(slug="dach")
    assert set(dach.leaders.values_list("username", flat=True)) == {"mlopez", "newboss"}
    assert dach.territory == "DE AT CH"  # the column was absent


def test_a_utf8_file_with_a_bom_and_windows_line_endings_is_imported(csv_file):
    path = csv_file("\ufeffslug,name,timezone\r\nnordics,Nordics,Europe/Stockholm\r\n".encode())
    import_ok("pods", path)
    assert Pod.objects.get(slug="nordics").timezone == "Europe/Stockholm"


def test_blank_lines_and_quoted_values_spanning_lines_are_read_as_csv(organisation, csv_file):
    path = csv_file(
        "external_id,occurred_at,account,job,channel,kind,notes\n"
        'ACT-9,2026-03-01T09:30:00Z,ACME,learn,digital,call,"first line\nsecond line, with a comma"\n'
        "\n"
        'ACT-10,2026-03-01T10:30:00Z,ACME,learn,digital,call,"she said ""yes"""\n'
        "\n"
    )
    result = import_ok("activities", path)
    assert result.rows == 2
    assert Activity.objects.get(external_id="ACT-9").notes == "first line\nsecond line, with a comma"
    assert Activity.objects.get(external_id="ACT-10").notes == 'she said "yes"'


def test_an_empty_file_of_rows_imports_nothing(csv_file):
    result = import_ok("accounts", csv_file("external_id,name,pod\n"))
    assert (result.rows, result.created) == (0, 0)
    assert result.summary() == "0 rows imported (0 new, 0 updated, 0 unchanged)"


def test_a_fact_import_tells_the_metrics_in_its_transaction_and_a_no_op_does_not(organisation, csv_file):
    sent = []

    def receiver(sender, kind, rows, **kwargs):
        sent.append((sender, kind, rows, connection.in_atomic_block))

    facts_bulk_written.connect(receiver)
    try:
        import_ok("orders", organisation["orders"])  # unchanged
        import_ok("orders", csv_file("external_id,account,ordered_at\nORD-9,ACME,2026-04-16T09:00:00-04:00\n"))
        import_ok("accounts", csv_file("external_id,name,pod\nNEW,New,dach\n"))  # not a fact
    finally:
        facts_bulk_written.disconnect(receiver)
    assert sent == [(Order, "orders", 1, True)]


def test_values_are_read_without_the_spaces_around_them(organisation, csv_file):
    # A no-break space and an em space, as spreadsheets leave them, count as spaces too.
    path = csv_file(
        "external_id , occurred_at,account,job,channel,kind,minutes,notes\n"
        "  ACT-7\t,\u00a02026-03-01T09:30:00Z ,ACME\u2003,learn , digital,call, 15 ,   \n"
    )
    import_ok("activities", path)
    activity = Activity.objects.get(external_id="ACT-7")
    assert (activity.account.external_id, activity.channel, activity.minutes, activity.notes) == (
        "ACME",
        "digital",
        15,
        "",
    )
