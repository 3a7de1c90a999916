"""``import_csv KIND PATH --source salesforce|hubspot``: the docs/examples exports, end to end, and hostile ones.

Expectations are computed here from the samples' own cells with the rules of docs/IMPORT-SOURCES.md
(translation tables written out again, UTC instants worked out by hand for the given zone), not
read back from the code under test.
"""

import csv
import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jobs.imports.sources.detect import detect
from jobs.imports.sources.mappings import BUILT_IN
from jobs.imports.sources.translate import TranslationError, translate
from jobs.models import Activity, ImportJob, Lead, Opportunity, SupportTicket
from tests.jobs.imports.conftest import table_dump
from tests.support.factories import AccountFactory, PodFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
UTC = dt.UTC
SF_ACCOUNTS = ("0015g00000Acme1AAA", "0015g00000Glob1AAA")
HS_ACCOUNTS = ("9001", "9002")


@pytest.fixture(autouse=True)
def accounts(db):
    pod = PodFactory(slug="southeast-us")
    for external_id in SF_ACCOUNTS + HS_ACCOUNTS:
        AccountFactory(external_id=external_id, pod=pod)


def run(kind, path, *options):
    out, err = StringIO(), StringIO()
    call_command("import_csv", kind, str(path), *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(kind, path, *options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_csv", kind, str(path), *options, stdout=out, stderr=err)
    return str(raised.value), err.getvalue()


def sample(name: str) -> list[dict[str, str]]:
    """The data rows of a sample, by header (a report's footer lines, shorter than the header, left out)."""
    with open(EXAMPLES / name, encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:] if len(row) == len(header)]


def iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def imported_twice(kind, name, *options):
    first, _ = run(kind, EXAMPLES / name, *options)
    before = table_dump()
    again, _ = run(kind, EXAMPLES / name, *options)
    assert table_dump() == before, "re-importing the same file changed rows"
    return first, again


# ---------- the worked examples ----------


def test_salesforce_tasks_all_caps_data_loader_export(db):
    rows = sample("salesforce-task.csv")
    first, again = imported_twice(
        "activities", "salesforce-task.csv", "--source", "salesforce", "--timezone", "America/New_York"
    )
    assert first == f"{len(rows)} rows imported ({len(rows)} new, 0 updated, 0 unchanged)\n"
    assert again == f"{len(rows)} rows imported (0 new, 0 updated, {len(rows)} unchanged)\n"
    kinds = {"Call": "call", "Email": "email", "Meeting": "meeting", "Task": "task", "Other": "other"}
    channels = {"Call": "digital", "Email": "digital", "Meeting": "in_person", "Task": "digital", "Other": "digital"}
    # ActivityDate alone is stored at 12:00 New York time: EST (-5) before 8 March 2026, EDT (-4) after.
    noon_new_york = {
        "2026-03-07": dt.datetime(2026, 3, 7, 17, 0, tzinfo=UTC),
        "2026-03-09": dt.datetime(2026, 3, 9, 16, 0, tzinfo=UTC),
    }
    for row in rows:
        stored = Activity.objects.get(external_id=row["ID"])
        kind_of = row["TYPE"] or row["TASKSUBTYPE"]
        assert stored.account.external_id == row["ACCOUNTID"]
        assert (stored.kind, stored.channel, stored.job) == (kinds[kind_of], channels[kind_of], "buy")
        expected = iso(row["COMPLETEDDATETIME"]) if row["COMPLETEDDATETIME"] else noon_new_york[row["ACTIVITYDATE"]]
        assert stored.occurred_at == expected
        assert stored.notes == (row["DESCRIPTION"] or row["SUBJECT"])
        seconds = row["CALLDURATIONINSECONDS"]
        assert stored.minutes == (round(int(seconds) / 60) if seconds else None)
    # A formula-looking cell is text, stored as it was written.
    assert Activity.objects.get(external_id="00T5g00000AbCd2EAF").notes.startswith("=HYPERLINK(")


def test_salesforce_opportunities_report_export_with_its_footer(db):
    rows = sample("salesforce-opportunity.csv")
    first, _ = imported_twice(
        "opportunities", "salesforce-opportunity.csv", "--source", "salesforce", "--timezone", "Europe/Berlin"
    )
    assert first.startswith(f"{len(rows)} rows imported")
    status = {"Closed Won": "won", "Closed Lost": "lost", "Negotiation/Review": "open"}
    # CloseDate at 12:00 Berlin time: CET (+1) on 28 March, CEST (+2) from 29 March 2026.
    noon_berlin = {
        "2026-03-28": dt.datetime(2026, 3, 28, 11, 0, tzinfo=UTC),
        "2026-03-30": dt.datetime(2026, 3, 30, 10, 0, tzinfo=UTC),
    }
    assert Opportunity.objects.count() == len(rows) == 3
    for row in rows:
        stored = Opportunity.objects.get(external_id=row["Id"])
        assert stored.account.external_id == row["AccountId"]
        assert stored.status == status[row["StageName"]]
        assert stored.amount == Decimal(row["Amount"].replace(",", "") or "0")
        assert stored.created_at == iso(row["CreatedDate"])
        assert stored.closed_at == (noon_berlin[row["CloseDate"]] if stored.status != "open" else None)


def test_salesforce_leads_with_a_bom_and_crlf(db):
    raw = (EXAMPLES / "salesforce-lead.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = sample("salesforce-lead.csv")
    imported_twice("leads", "salesforce-lead.csv", "--source", "salesforce", "--timezone", "America/Chicago")
    statuses = {"Closed - Converted": "accepted", "Closed - Not Converted": "rejected", "Working - Contacted": "open"}
    channels = {"Web": "digital", "Partner Referral": "partner", "Trade Show": "in_person", "": "digital"}
    # ConvertedDate at 12:00 Chicago time: CST (-6) on 7 March, CDT (-5) on 9 March 2026.
    noon_chicago = {
        "2026-03-07": dt.datetime(2026, 3, 7, 18, 0, tzinfo=UTC),
        "2026-03-09": dt.datetime(2026, 3, 9, 17, 0, tzinfo=UTC),
    }
    for row in rows:
        stored = Lead.objects.get(external_id=row["Id"])
        assert stored.account.external_id == (row["ConvertedAccountId"] or row["AccountId"])
        assert (stored.status, stored.channel) == (statuses[row["Status"]], channels[row["LeadSource"]])
        assert stored.created_at == iso(row["CreatedDate"])
        if stored.status == "open":
            assert stored.decided_at is None
        elif row["ConvertedDate"]:
            assert stored.decided_at == noon_chicago[row["ConvertedDate"]]
        else:
            assert stored.decided_at == iso(row["LastModifiedDate"])


def test_salesforce_cases_as_tickets_need_no_time_zone(db):
    rows = sample("salesforce-case.csv")
    imported_twice("tickets", "salesforce-case.csv", "--source", "salesforce")
    for row in rows:
        stored = SupportTicket.objects.get(external_id=row["Id"])
        assert stored.account.external_id == row["AccountId"]
        assert stored.channel == "digital"
        assert stored.opened_at == iso(row["CreatedDate"])
        assert stored.resolved_at == (iso(row["ClosedDate"]) if row["ClosedDate"] else None)


def test_hubspot_deals_with_locale_dates_and_lists(db):
    rows = sample("hubspot-deals.csv")
    imported_twice("opportunities", "hubspot-deals.csv", "--source", "hubspot", "--timezone", "America/Los_Angeles")
    status = {"closedwon": "won", "Closed Lost": "lost", "appointmentscheduled": "open"}
    # Month/day/year local times in Los Angeles: PST (-8) until 8 March 2026 02:00, PDT (-7) after.
    utc = {
        "3/7/2026 10:00": dt.datetime(2026, 3, 7, 18, 0, tzinfo=UTC),
        "3/9/2026 10:00": dt.datetime(2026, 3, 9, 17, 0, tzinfo=UTC),
        "1/10/2026 21:52": dt.datetime(2026, 1, 11, 5, 52, tzinfo=UTC),
        "1/2/2026 08:15": dt.datetime(2026, 1, 2, 16, 15, tzinfo=UTC),
        "3/20/2026 14:30": dt.datetime(2026, 3, 20, 21, 30, tzinfo=UTC),
    }
    for row in rows:
        stored = Opportunity.objects.get(external_id=row["Record ID"])
        assert stored.account.external_id == row["Associated Company"].split(";")[0]
        assert stored.status == status[row["Deal Stage"]]
        assert stored.name == row["Deal Name"]  # "=SUM(A1:A9)" too: text, not a formula
        assert stored.amount == Decimal(row["Amount"] or "0")
        assert stored.created_at == utc[row["Create Date"]]
        assert stored.closed_at == (utc[row["Close Date"]] if stored.status != "open" else None)


@pytest.mark.parametrize(
    ("name", "kind", "channel"),
    [
        ("hubspot-calls.csv", None, "digital"),
        ("hubspot-meetings.csv", "meeting", "in_person"),
        ("hubspot-notes.csv", "note", "digital"),
        ("hubspot-tasks.csv", None, "digital"),
    ],
)
def test_hubspot_activities(db, name, kind, channel):
    rows = sample(name)
    imported_twice("activities", name, "--source", "hubspot", "--timezone", "America/New_York")
    task_types = {"Email": "email", "Call": "call", "To-do": "task"}
    # New York: EST (-5) until 8 March 2026 02:00, EDT (-4) until 1 November 2026 02:00, EST after.
    utc = {
        "3/7/2026 09:30": dt.datetime(2026, 3, 7, 14, 30, tzinfo=UTC),
        "3/9/2026 09:30": dt.datetime(2026, 3, 9, 13, 30, tzinfo=UTC),
        "1/10/2026 21:52": dt.datetime(2026, 1, 11, 2, 52, tzinfo=UTC),
        "11/1/2026 10:00": dt.datetime(2026, 11, 1, 15, 0, tzinfo=UTC),
        "3/7/2026 23:30": dt.datetime(2026, 3, 8, 4, 30, tzinfo=UTC),
        "3/8/2026 12:00": dt.datetime(2026, 3, 8, 16, 0, tzinfo=UTC),
        "3/9/2026 08:00": dt.datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
        "3/6/2026 16:45": dt.datetime(2026, 3, 6, 21, 45, tzinfo=UTC),
        "3/10/2026 12:00": dt.datetime(2026, 3, 10, 16, 0, tzinfo=UTC),
    }
    for row in rows:
        stored = Activity.objects.get(external_id=row["Record ID"])
        assert stored.account.external_id == row["Associated Company"].split(";")[0]
        assert stored.occurred_at == utc[row["Activity date"]]
        assert (stored.channel, stored.job) == (channel, "buy")
        expected_kind = kind or ("call" if "Call Title" in row else task_types[row["Task Type"]])
        assert stored.kind == expected_kind
        if "Call duration (HH:mm:ss)" in row:
            h, m, s = map(int, row["Call duration (HH:mm:ss)"].split(":"))
            assert stored.minutes == (h * 3600 + m * 60 + s + 30) // 60
            assert stored.notes == (row["Call notes"] or row["Call Title"])
        if "Note body" in row:
            assert stored.notes == row["Note body"]  # "+1 555 ..." kept as text


def test_hubspot_tickets_across_the_autumn_clock_change(db):
    rows = sample("hubspot-tickets.csv")
    first, again = imported_twice(
        "tickets", "hubspot-tickets.csv", "--source", "hubspot", "--timezone", "America/New_York"
    )
    assert first == f"{len(rows)} rows imported ({len(rows)} new, 0 updated, 0 unchanged)\n"
    assert again.endswith(f"(0 new, 0 updated, {len(rows)} unchanged)\n")
    # New York: EDT (-4) until 1 November 2026 02:00, EST (-5) after; EST (-5) before 8 March, EDT after.
    utc = {
        "10/31/2026 23:40": dt.datetime(2026, 11, 1, 3, 40, tzinfo=UTC),
        "11/1/2026 09:15": dt.datetime(2026, 11, 1, 14, 15, tzinfo=UTC),
        "11/2/2026 08:05": dt.datetime(2026, 11, 2, 13, 5, tzinfo=UTC),
        "3/7/2026 16:00": dt.datetime(2026, 3, 7, 21, 0, tzinfo=UTC),
        "3/9/2026 10:30": dt.datetime(2026, 3, 9, 14, 30, tzinfo=UTC),
    }
    for row in rows:
        stored = SupportTicket.objects.get(external_id=row["Ticket ID"])
        assert stored.account.external_id == row["Associated Company"].split(";")[0]
        assert stored.channel == "digital"  # Email, Phone, Chat, Form are all digital
        assert stored.opened_at == utc[row["Create date"]]
        assert stored.resolved_at == (utc[row["Close date"]] if row["Close date"] else None)
        assert stored.csat is None


def test_every_built_in_has_a_worked_example_that_it_detects():
    detected = set()
    for path in EXAMPLES.glob("*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as file:
            mapping = detect(next(csv.reader(file)))
        assert mapping is not None, path.name
        detected.add(mapping.name)
    assert detected == set(BUILT_IN)


# ---------- hostile and bad inputs ----------


def write(tmp_path, text, name="export.csv"):
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


OPPORTUNITY_HEADER = "Id,AccountId,Name,Amount,StageName,CloseDate,CreatedDate\n"


def test_an_unmapped_stage_is_a_clear_error_and_nothing_is_written(tmp_path):
    path = write(
        tmp_path,
        OPPORTUNITY_HEADER
        + "006A,0015g00000Acme1AAA,A,10,Closed Won,2026-03-01,2026-01-01T00:00:00Z\n"
        + "006B,0015g00000Acme1AAA,B,10,Stalled,2026-03-01,2026-01-01T00:00:00Z\n",
    )
    before = table_dump()
    message, report = fails("opportunities", path, "--source", "salesforce", "--timezone", "UTC")
    assert report.startswith('line 3, column StageName: "Stalled" is not a StageName value')
    assert "Nothing was imported" in message
    assert table_dump() == before


def test_a_hubspot_file_without_a_time_zone_is_refused_naming_the_column(tmp_path):
    before = table_dump()
    message, report = fails("opportunities", EXAMPLES / "hubspot-deals.csv", "--source", "hubspot")
    lines = report.splitlines()
    # Each column is named once, on the first line that needs the zone.
    assert lines[0].startswith('line 2, column Create Date: "3/7/2026 10:00" has no UTC offset')
    assert lines[1].startswith('line 2, column Close Date: "3/9/2026 10:00" has no UTC offset')
    assert "--timezone" in lines[0] and len(lines) == 2
    assert "Nothing was imported" in message
    assert table_dump() == before


def test_an_unknown_time_zone_is_refused(tmp_path):
    before = table_dump()
    message, report = fails(
        "opportunities", EXAMPLES / "hubspot-deals.csv", "--source", "hubspot", "--timezone", "Mars/Olympus"
    )
    assert '"Mars/Olympus" is not an IANA time zone' in report
    assert table_dump() == before


def test_a_kind_other_than_the_detected_mappings_is_refused():
    message, _ = fails("leads", EXAMPLES / "hubspot-deals.csv", "--source", "hubspot", "--timezone", "UTC")
    assert "hubspot-deal" in message and "imports opportunities, not leads" in message


def test_a_header_matching_nothing_lists_the_known_mappings(tmp_path):
    path = write(tmp_path, "Foo,Bar\n1,2\n")
    message, _ = fails("activities", path, "--source", "salesforce")
    assert "matches no salesforce mapping" in message
    for name in ("salesforce-task", "salesforce-opportunity", "salesforce-lead", "salesforce-case"):
        assert name in message


def test_a_mapping_of_another_source_or_an_option_without_source_is_refused(tmp_path):
    assert (
        "Unknown salesforce mapping"
        in fails(
            "opportunities", EXAMPLES / "hubspot-deals.csv", "--source", "salesforce", "--mapping", "hubspot-deal"
        )[0]
    )
    assert "give --source too" in fails("opportunities", EXAMPLES / "hubspot-deals.csv", "--timezone", "UTC")[0]
    assert "Unknown source" in fails("opportunities", EXAMPLES / "hubspot-deals.csv", "--source", "pipedrive")[0]


def test_import_errors_name_source_lines_and_columns_even_after_a_value_spanning_lines(tmp_path):
    # Line 2's Subject spans two lines and is not carried over (Description wins): our line 3 is the source's line 4.
    path = write(
        tmp_path,
        "Id,AccountId,Subject,Type,ActivityDate,CompletedDateTime,Description\n"
        '00T1,0015g00000Acme1AAA,"two\nlines",Call,2026-03-04,2026-03-04T15:20:00Z,kept\n'
        "00T2,GHOST,x,Call,2026-03-04,2026-03-04T15:20:00Z,kept\n",
    )
    message, report = fails("activities", path, "--source", "salesforce", "--timezone", "UTC")
    assert report.splitlines()[0] == 'line 4, column AccountId: Unknown account "GHOST".'
    assert not Activity.objects.exists()


def test_a_local_time_the_clock_change_skips_or_repeats_is_refused(tmp_path):
    header = '"Record ID","Note body","Activity date","Associated Company"\n'
    path = write(tmp_path, header + '"1","a","3/8/2026 02:30","9001"\n"2","b","11/1/2026 01:30","9001"\n')
    _, report = fails("activities", path, "--source", "hubspot", "--timezone", "America/New_York")
    lines = report.splitlines()
    assert lines[0].startswith('line 2, column Activity date: "3/8/2026 02:30" does not exist in America/New_York')
    assert lines[1].startswith('line 3, column Activity date: "11/1/2026 01:30" happens twice')


def test_unreadable_dates_and_short_rows_are_all_listed_and_nothing_is_written(tmp_path):
    source = write(
        tmp_path,
        OPPORTUNITY_HEADER
        + "006A,0015g00000Acme1AAA,A,10,Closed Won,03/01/2026,2026-01-01T00:00:00Z\n"
        + "006B,0015g00000Acme1AAA,B,10\n"
        + "\n"
        + '"Grand Totals (2 records)"\n',
    )
    out = tmp_path / "ours.csv"
    with pytest.raises(TranslationError) as raised:
        translate(BUILT_IN["salesforce-opportunity"], source, out, timezone="UTC")
    assert [(p.line, p.column) for p in raised.value.problems] == [(2, "CloseDate"), (3, None)]
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_data_after_a_blank_line_is_not_mistaken_for_a_footer(tmp_path):
    source = write(
        tmp_path,
        "Id,CaseNumber,AccountId,Origin,CreatedDate\n"
        "500A,1,0015g00000Acme1AAA,Web,2026-03-04T15:20:00Z\n"
        "\n"
        "500B,2,0015g00000Acme1AAA,Web,2026-03-04T15:20:00Z\n",
    )
    translation = translate(BUILT_IN["salesforce-case"], source, tmp_path / "ours.csv", timezone=None)
    assert translation.rows == 2
    assert translation.source_line(3) == 4
    run("tickets", source, "--source", "salesforce")
    assert SupportTicket.objects.count() == 2


def test_without_source_the_command_behaves_as_before(tmp_path):
    # A Salesforce header read as our own format: unknown columns, exactly as today.
    message, report = fails("opportunities", EXAMPLES / "salesforce-case.csv")
    assert "Nothing was imported" in message
    assert report.startswith("line 1")


# ---------- the same through the import page and POST /api/imports/ (run on a worker: eager here) ----------


def upload_of(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, (EXAMPLES / name).read_bytes(), content_type="text/csv")


def test_the_import_page_takes_an_export_as_it_is_after_a_preview(
    client, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    body = {"kind": "opportunities", "source": "hubspot", "timezone": "America/Los_Angeles"}
    before = table_dump()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {**body, "file": upload_of("hubspot-deals.csv")})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    # A CRM export is always checked and previewed first: nothing written, the mapping it detected kept.
    assert (job.status, job.source, job.mapping, job.source_timezone) == (
        "checked",
        "hubspot",
        "hubspot-deal",
        "America/Los_Angeles",
    )
    assert table_dump() == before
    detail = client.get(response["Location"]).content.decode()
    assert "HubSpot export, mapping hubspot-deal; times without an offset read in America/Los_Angeles" in detail
    assert "Nothing has been written yet" in detail
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == "succeeded" and job.confirmed_at is not None
    assert set(Opportunity.objects.values_list("external_id", flat=True)) == {
        row["Record ID"] for row in sample("hubspot-deals.csv")
    }


def test_the_page_refuses_bad_source_options_before_anything_is_stored(client, admin_user):
    client.force_login(admin_user)
    cases = [
        ({"source": "hubspot", "timezone": "Mars/Olympus"}, "timezone", "is not an IANA time zone"),
        ({"source": "hubspot", "mapping": "salesforce-task"}, "mapping", "Unknown hubspot mapping"),
        ({"source": "salesforce", "mapping": "salesforce-task"}, "mapping", "imports activities, not opportunities"),
        ({"mapping": "hubspot-deal"}, "mapping", "choose its source too"),
    ]
    for options, field, message in cases:
        response = client.post(
            "/imports/", {"kind": "opportunities", **options, "file": upload_of("hubspot-deals.csv")}
        )
        page = response.content.decode()
        assert response.status_code == 200 and message in page, (options, field)
    assert not ImportJob.objects.exists()


def test_the_api_takes_an_export_and_reports_its_problems_in_the_sources_terms(
    admin_user, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/imports/",
            {"kind": "opportunities", "source": "hubspot", "file": upload_of("hubspot-deals.csv")},
            format="multipart",
        )
    assert response.status_code == 202
    body = api.get(f"/api/imports/{response.json()['id']}/").json()
    assert body["status"] == "failed" and body["source"] == "hubspot" and body["source_timezone"] == ""
    assert {error["column"] for error in body["errors"]} == {"Create Date", "Close Date"}  # no --timezone given
    assert all("has no UTC offset" in error["message"] for error in body["errors"])
    assert not Opportunity.objects.exists()
    refused = api.post(
        "/api/imports/",
        {"kind": "opportunities", "source": "hubspot", "timezone": "Nowhere", "file": upload_of("hubspot-deals.csv")},
        format="multipart",
    )
    assert refused.status_code == 400 and "timezone" in refused.json()
