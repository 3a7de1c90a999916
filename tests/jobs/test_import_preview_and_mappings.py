"""A preview before anything is written, and saved mappings admins copy and edit (issue 15).

Expectations are worked out here from the files' own cells and the rules of docs/IMPORT-SOURCES.md,
not read back from the code under test.  Imports run on an eager worker (the task runs on commit).
"""

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from jobs.models import ImportJob, Opportunity, SavedMapping
from tests.jobs.imports.conftest import table_dump
from tests.support.factories import AccountFactory, PodFactory
from tests.support.mapping_forms import mapping_form_data

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
UTC = dt.UTC


@pytest.fixture(autouse=True)
def accounts(db):
    pod = PodFactory(slug="southeast-us")
    for external_id in ("0015g00000Acme1AAA", "0015g00000Glob1AAA", "9001", "9002"):
        AccountFactory(external_id=external_id, pod=pod)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


OPPORTUNITY_HEADER = "Id,AccountId,Name,Amount,StageName,CloseDate,CreatedDate\n"
OPPORTUNITIES = (
    OPPORTUNITY_HEADER
    + "006A,0015g00000Acme1AAA,Renewal,1200,Closed Won,2026-03-02,2026-01-05T10:00:00Z\n"
    + "006B,0015g00000Glob1AAA,Upsell,,Prospecting,2026-04-01,2026-02-01T08:30:00.000+0000\n"
)


# ---------- the preview ----------


def test_a_preview_writes_nothing_shows_the_rows_as_stored_and_confirming_imports_them(
    admin_client, django_capture_on_commit_callbacks
):
    before = table_dump()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/imports/",
            {
                "kind": "opportunities",
                "source": "salesforce",
                "timezone": "Europe/Berlin",
                "file": upload("opps.csv", OPPORTUNITIES.encode()),
            },
        )
    job = ImportJob.objects.get()
    assert (job.status, job.mapping, job.rows_total, job.rows_created, job.rows_updated) == (
        "checked",
        "salesforce-opportunity",
        2,
        2,
        0,
    )
    assert table_dump() == before, "a preview wrote something"
    preview = job.preview_rows
    row = dict(zip(preview["columns"], preview["rows"][0], strict=True))
    # 006A as our format stores it: status translated, CloseDate at 12:00 Berlin (CET, +1) = 11:00 UTC.
    assert (row["external_id"], row["status"], row["amount"]) == ("006A", "won", "1200")
    assert dt.datetime.fromisoformat(row["closed_at"]) == dt.datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    second = dict(zip(preview["columns"], preview["rows"][1], strict=True))
    assert (second["amount"], second["status"], second["closed_at"]) == ("0", "open", "")
    assert preview["lines"] == [2, 3]
    page = admin_client.get(response["Location"]).content.decode()
    assert "Importing would add 2 new, update 0 and leave 0 unchanged" in page
    assert "Import 2 rows" in page

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/imports/{job.pk}/confirm/")
    job.refresh_from_db()
    assert (job.status, job.rows_created) == ("succeeded", 2)
    assert Opportunity.objects.get(external_id="006A").closed_at == dt.datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    # Confirming twice imports nothing more and says why.
    after = table_dump()
    again = admin_client.post(f"/imports/{job.pk}/confirm/", follow=True)
    assert "cannot be confirmed" in again.content.decode()
    assert table_dump() == after


def test_a_preview_counts_what_would_change_against_what_is_stored(
    admin_client, django_capture_on_commit_callbacks, write
):
    call_command(
        "import_csv", "opportunities", str(write(OPPORTUNITIES)), "--source", "salesforce", "--timezone", "UTC"
    )
    before = table_dump()
    changed = OPPORTUNITIES.replace("Renewal,1200", "Renewal,1300")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/imports/",
            {
                "kind": "opportunities",
                "source": "salesforce",
                "timezone": "UTC",
                "file": upload("again.csv", changed.encode()),
            },
        )
    job = ImportJob.objects.get()
    assert (job.status, job.rows_created, job.rows_updated, job.rows_unchanged) == ("checked", 0, 1, 1)
    assert table_dump() == before


def test_a_preview_that_finds_problems_reports_them_all_and_cannot_be_confirmed(
    admin_client, django_capture_on_commit_callbacks
):
    bad = OPPORTUNITIES + "006C,0015g00000NOPE1AAA,Lost one,5,Closed Lost,2026-03-01,2026-01-01T00:00:00Z\n"
    bad += "006D,0015g00000Acme1AAA,Odd,5,Stalled,2026-03-01,2026-01-01T00:00:00Z\n"
    before = table_dump()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/imports/",
            {
                "kind": "opportunities",
                "source": "salesforce",
                "timezone": "UTC",
                "file": upload("bad.csv", bad.encode()),
            },
        )
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.confirmed_at is None
    # The unlisted stage is found while translating (line 5); that report is the whole answer, nothing written.
    assert [(e["line"], e["column"]) for e in job.errors] == [(5, "StageName")]
    assert table_dump() == before
    assert admin_client.post(f"/imports/{job.pk}/confirm/").status_code == 302
    job.refresh_from_db()
    assert job.status == "failed"


def test_the_api_previews_on_request_and_confirms(admin_user, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_login(admin_user)
    ours = "external_id,name,pod\nACC-NEW,New account,southeast-us\n"
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/imports/", {"kind": "accounts", "preview": "true", "file": upload("a.csv", ours.encode())}
        )
    assert created.status_code == 202
    body = api.get(f"/api/imports/{created.json()['id']}/").json()
    assert body["status"] == "checked" and body["preview"] is True and body["confirmed_at"] is None
    assert body["preview_rows"] == {
        "columns": ["external_id", "name", "pod"],
        "rows": [["ACC-NEW", "New account", "southeast-us"]],
        "lines": [2],
    }
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(f"/api/imports/{body['id']}/confirm/")
    assert confirmed.status_code == 202
    assert api.get(f"/api/imports/{body['id']}/").json()["status"] == "succeeded"
    assert api.post(f"/api/imports/{body['id']}/confirm/").status_code == 409
    # Without "preview" the contract is as before: imported at once.
    with django_capture_on_commit_callbacks(execute=True):
        plain = api.post("/api/imports/", {"kind": "accounts", "file": upload("b.csv", ours.encode())})
    assert api.get(f"/api/imports/{plain.json()['id']}/").json()["status"] == "succeeded"


# ---------- saved mappings ----------


def form_data(mapping_name: str, name: str, changes: dict | None = None, **more) -> dict:
    return mapping_form_data(mapping_name, name, {**(changes or {}), **more})


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "export.csv") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_an_admin_copies_a_built_in_adds_a_stage_and_detection_uses_the_copy(admin_client, write):
    page = admin_client.get("/imports/mappings/new/?from=salesforce-opportunity").content.decode()
    assert "Closed Won = won" in page and 'value="salesforce-opportunity-copy"' in page
    data = form_data("salesforce-opportunity", "acme-opportunity")
    data["status__values"] += "\nStalled = open\nSigned = won"
    response = admin_client.post("/imports/mappings/new/?from=salesforce-opportunity", data)
    assert response.status_code == 302
    saved = SavedMapping.objects.get(name="acme-opportunity")
    assert (
        saved.based_on == "salesforce-opportunity"
        and saved.definition["fields"]["status"]["values"]["Stalled"] == "open"
    )

    export = write(
        OPPORTUNITY_HEADER
        + "006S,0015g00000Acme1AAA,Paused deal,10,Stalled,2026-03-01,2026-01-01T00:00:00Z\n"
        + "006T,0015g00000Acme1AAA,Custom win,20,signed,2026-03-03,2026-01-02T00:00:00Z\n"
    )
    call_command("import_csv", "opportunities", str(export), "--source", "salesforce", "--timezone", "UTC")
    assert Opportunity.objects.get(external_id="006S").status == "open"
    signed = Opportunity.objects.get(external_id="006T")
    assert (signed.status, signed.closed_at) == ("won", dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    # The built-in, named, still refuses the custom stage: the copy changed nothing else.
    before = table_dump()
    with pytest.raises(CommandError):
        call_command(
            "import_csv",
            "opportunities",
            str(export),
            "--source",
            "salesforce",
            "--mapping",
            "salesforce-opportunity",
            "--timezone",
            "UTC",
        )
    assert table_dump() == before


@pytest.mark.parametrize(
    ("mapping_name", "changes", "field", "message"),
    [
        (
            "salesforce-opportunity",
            {"status__values": "Closed Won = victory"},
            "status__values",
            '"victory" is not one',
        ),
        ("salesforce-opportunity", {"status__values": "Closed Won"}, "status__values", "export value = our value"),
        ("salesforce-opportunity", {"status__values": "Won = won\nwon = lost"}, "status__values", "Translated twice"),
        ("salesforce-opportunity", {"name": "salesforce-task"}, "name", "a built-in mapping's name"),
        ("salesforce-opportunity", {"timezone": "Mars/Olympus"}, "timezone", "not an IANA time zone"),
        ("salesforce-opportunity", {"external_id__sources": ""}, "external_id__sources", "is required"),
        ("salesforce-opportunity", {"amount__default": "-5"}, "amount__default", "The value when empty"),
        ("salesforce-task", {"job__constant": "purchase"}, "job__constant", '"purchase" is not one of'),
        ("salesforce-opportunity", {"identifying": " , "}, "identifying", "at least one header"),
    ],
)
def test_a_mapping_that_would_write_what_our_format_refuses_is_not_saved(
    admin_client, mapping_name, changes, field, message
):
    response = admin_client.post(
        f"/imports/mappings/new/?from={mapping_name}", form_data(mapping_name, "my-mapping", changes)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not SavedMapping.objects.exists()


def test_a_saved_hubspot_copy_reads_day_first_dates_in_its_own_time_zone(admin_client, write):
    data = form_data("hubspot-deal", "hubspot-deal-uk", day_first="on", timezone="Europe/London")
    assert admin_client.post("/imports/mappings/new/?from=hubspot-deal", data).status_code == 302
    export = write(
        '"Record ID","Deal Name","Deal Stage","Amount","Create Date","Close Date","Associated Company"\n'
        '"501","Summer deal","closedwon","900","2/7/2026 09:00","31/7/2026 17:45","9001"\n'
    )
    # No --timezone: the saved mapping's zone, which its admin set; 2 July and 31 July in London are BST (+1).
    call_command("import_csv", "opportunities", str(export), "--source", "hubspot")
    deal = Opportunity.objects.get(external_id="501")
    assert deal.created_at == dt.datetime(2026, 7, 2, 8, 0, tzinfo=UTC)
    assert deal.closed_at == dt.datetime(2026, 7, 31, 16, 45, tzinfo=UTC)


def test_editing_and_deleting_a_saved_mapping(admin_client):
    data = form_data("salesforce-case", "case-ours")
    admin_client.post("/imports/mappings/new/?from=salesforce-case", data)
    listing = admin_client.get("/imports/mappings/").content.decode()
    assert "case-ours" in listing and "salesforce-case" in listing
    data["channel__values"] = "Phone = in_person\nEmail = digital\nWeb = digital"
    assert admin_client.post("/imports/mappings/case-ours/", data).status_code == 302
    assert SavedMapping.objects.get().definition["fields"]["channel"]["values"]["Phone"] == "in_person"
    assert admin_client.get("/imports/mappings/case-ours/delete/").status_code == 200
    assert admin_client.post("/imports/mappings/case-ours/delete/").status_code == 302
    assert not SavedMapping.objects.exists()


def test_only_admins_reach_the_mapping_pages(client, django_user_model):
    staff = django_user_model.objects.create_user("plain", password="x")
    client.force_login(staff)
    assert client.get("/imports/mappings/").status_code == 403
    assert client.get("/imports/mappings/new/?from=salesforce-case").status_code == 404
