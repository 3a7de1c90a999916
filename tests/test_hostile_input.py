"""Hostile input: every door refuses it with a message a person can act on, writes nothing, shows no traceback.

The doors: the CSV import (the upload page and ``POST /api/imports/``) and the log-activity form
and ``POST /api/activities/``. The payloads: broken encodings, a 5 MB line, wrong headers, broken
quoting, NUL bytes, oversized uploads and bodies, impossible dates, absurd numbers, and
spreadsheet formulas (those are data, not an attack on us: stored as typed, exported defused).
"""

import csv
import html
import io
import tracemalloc
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from jobs.imports.services import import_file
from jobs.models import Activity, ImportJob
from tests.jobs.imports.conftest import table_dump
from tests.support.factories import AccountFactory

pytestmark = pytest.mark.django_db

HEADER = b"external_id,occurred_at,account,job,channel,kind,minutes,notes\n"


def row(occurred_at=b"2026-03-01T09:30:00-05:00", kind=b"call", minutes=b"30", notes=b"", external_id=b"ACT-1"):
    return b",".join([external_id, occurred_at, b"ACME", b"learn", b"digital", kind, minutes, notes]) + b"\n"


FIVE_MB = 5 * 1024 * 1024

# (name, file content, line of the error, what the report says)
BAD_FILES = [
    ("invalid UTF-8", HEADER + row(kind=b"caf\xe9"), 2, "Line 2 is not valid UTF-8"),
    ("UTF-16 with its BOM", (HEADER + row()).decode().encode("utf-16"), 1, "The file is UTF-16 text"),
    ("UTF-16 without a BOM", (HEADER + row()).decode().encode("utf-16-le"), 1, "contains NUL bytes"),
    ("a 5 MB line", HEADER + row(notes=b"x" * FIVE_MB), 2, "Line 2 is too long"),
    ("a 200 kB value", HEADER + row(notes=b"y" * 200_000), 2, "A value is too long"),
    (
        "an unknown column",
        HEADER.replace(b"\n", b",colour\n") + row().replace(b"\n", b",red\n"),
        1,
        'Unknown column "colour"',
    ),
    ("a repeated column", HEADER.replace(b"notes", b"kind"), 1, 'Column "kind" appears more than once'),
    ("a missing column", HEADER.replace(b"channel,", b""), 1, 'Required column "channel" is missing'),
    ("an unterminated quote", HEADER + row(notes=b'"never closed') + row(external_id=b"ACT-2"), 2, "never closed"),
    ("a NUL byte", HEADER + row(notes=b"nul\x00byte"), 2, "contains NUL bytes"),
    ("year 0", HEADER + row(occurred_at=b"0000-03-01T09:30:00Z"), 2, "is not an ISO 8601 timestamp"),
    ("year 99999", HEADER + row(occurred_at=b"99999-03-01T09:30:00Z"), 2, "is not an ISO 8601 timestamp"),
    ("30 February", HEADER + row(occurred_at=b"2026-02-30T09:30:00Z"), 2, "is not an ISO 8601 timestamp"),
    ("year 10000 in UTC", HEADER + row(occurred_at=b"9999-12-31T23:00:00-05:00"), 2, "Dates must lie between"),
    ("an offset of 17 hours", HEADER + row(occurred_at=b"2026-03-01T09:30:00+17:18"), 2, "A UTC offset lies between"),
    ("1e309 minutes", HEADER + row(minutes=b"1e309"), 2, "is not a whole number"),
    ("-1 minutes", HEADER + row(minutes=b"-1"), 2, "out of range"),
    ("10^20 minutes", HEADER + row(minutes=b"100000000000000000000"), 2, "out of range"),
]
IDS = [name for name, *_ in BAD_FILES]


@pytest.fixture
def acme(pod_a, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return AccountFactory(external_id="ACME", name="Acme", pod=pod_a)


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "/' not in text and "Error:" not in text


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("hostile.csv", content, content_type="text/csv")


# ---------- the CSV import ----------


@pytest.mark.parametrize(("name", "content", "line", "message"), BAD_FILES, ids=IDS)
def test_the_import_page_refuses_it_and_says_why(
    client, admin_user, acme, django_capture_on_commit_callbacks, name, content, line, message
):
    client.force_login(admin_user)
    before = table_dump()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {"kind": "activities", "file": upload(content)})
    assert response.status_code == 302
    page = client.get(response["Location"])
    text = html.unescape(page.content.decode())
    assert "Nothing was imported" in text
    assert message in text
    no_traceback(text)
    assert table_dump() == before
    assert [(error["line"], message in error["message"]) for error in ImportJob.objects.get().errors] == [(line, True)]


@pytest.mark.parametrize(("name", "content", "line", "message"), BAD_FILES, ids=IDS)
def test_the_import_api_refuses_it_and_says_why(
    admin_user, acme, django_capture_on_commit_callbacks, name, content, line, message
):
    api = APIClient()
    api.force_login(admin_user)
    before = table_dump()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/imports/", {"kind": "activities", "file": upload(content)}, format="multipart")
    assert response.status_code == 202
    body = api.get(f"/api/imports/{response.json()['id']}/").json()
    assert body["status"] == "failed"
    assert [(error["line"], message in error["message"]) for error in body["errors"]] == [(line, True)]
    no_traceback(str(body))
    assert table_dump() == before


def test_a_file_without_line_breaks_is_refused_after_its_first_megabyte_not_read_whole(acme, tmp_path):
    path = tmp_path / "one-line.csv"
    path.write_bytes(HEADER + row(notes=b"z" * (40 * 1024 * 1024)))
    tracemalloc.start()
    try:
        result = import_file("activities", path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "too long" in result.errors[0]["message"]
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while reading a 40 MB line"


def test_a_report_quoting_a_huge_value_stays_small(acme, tmp_path):
    """Messages that quote the value are cut, so 1000 errors cannot make a report of megabytes."""
    path = tmp_path / "long-dates.csv"
    path.write_bytes(HEADER + b"".join(row(occurred_at=b"9" * 100_000, external_id=b"A%d" % n) for n in range(20)))
    result = import_file("activities", path)
    assert result.error_count == 20
    assert all(len(error["message"]) <= 500 for error in result.errors)


def test_a_byte_order_mark_is_accepted_as_the_interchange_contract_says(acme, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + row())
    result = import_file("activities", path)
    assert result.succeeded, result.errors
    assert Activity.objects.get().external_id == "ACT-1"


def test_an_oversized_upload_is_refused_on_the_page_and_in_the_api(client, admin_user, acme, settings):
    settings.UCE_IMPORT_MAX_BYTES = 1024
    content = HEADER + row() * 40
    client.force_login(admin_user)
    page = client.post("/imports/", {"kind": "activities", "file": upload(content)})
    assert page.status_code == 200
    assert "at most 1.0\xa0KB may be imported at once" in html.unescape(page.content.decode())
    api = APIClient()
    api.force_login(admin_user)
    response = api.post("/api/imports/", {"kind": "activities", "file": upload(content)}, format="multipart")
    assert response.status_code == 413
    assert "at most 1.0\xa0KB may be imported at once" in response.json()["file"][0]
    assert not ImportJob.objects.exists() and not Activity.objects.exists()


# ---------- formulas: stored as typed, exported defused ----------

FORMULAS = ['=HYPERLINK("http://example.com/x","Click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def exported_cells(client) -> list[list[str]]:
    response = client.get("/activities/export.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_formulas_in_an_import_are_stored_as_text_and_exported_with_a_quote(client, admin_user, acme, tmp_path):
    path = tmp_path / "formulas.csv"
    lines = [HEADER.replace(b"minutes,", b"")]
    for number, formula in enumerate(FORMULAS):
        cell = '"' + formula.replace('"', '""') + '"'
        lines.append(f"F-{number},2026-03-01T09:30:00-05:00,ACME,learn,digital,{cell},{cell}\n".encode())
    assert import_file("activities", path.write_bytes(b"".join(lines)) and path).succeeded
    assert sorted(Activity.objects.values_list("notes", flat=True)) == sorted(FORMULAS)
    client.force_login(admin_user)
    rows = exported_cells(client)
    kind, notes = rows[0].index("kind"), rows[0].index("notes")
    assert sorted(cells[notes] for cells in rows[1:]) == sorted("'" + formula for formula in FORMULAS)
    assert sorted(cells[kind] for cells in rows[1:]) == sorted("'" + formula for formula in FORMULAS)


# ---------- the log-activity form ----------


def form_data(acme, **changes) -> dict:
    data = {
        "account": acme.pk,
        "account_search": "Acme (ACME)",
        "job": "learn",
        "channel": "digital",
        "kind": "call",
        "occurred_at": "2026-03-01T09:30",
        "minutes": "30",
        "notes": "",
    }
    return {**data, **changes}


BAD_FORM_VALUES = [
    ("occurred_at", "0000-03-01T09:30", "Enter a date and time"),
    ("occurred_at", "99999-03-01T09:30", "Enter a date and time"),
    ("occurred_at", "2026-02-30T09:30", "Enter a date and time"),
    ("occurred_at", "9999-12-31T23:00", "Dates must lie between 1900-01-01 and 2099-12-31"),
    ("occurred_at", "1899-12-31T12:00", "Dates must lie between 1900-01-01 and 2099-12-31"),
    ("minutes", "1e309", "Enter a whole number"),
    ("minutes", "-1", "Must be 0 or more"),
    ("minutes", "100000000000000000000", "At most 1440 (one day) per activity"),
    ("notes", "nul\x00byte", "Null characters are not allowed"),
    ("kind", "x" * 51, "at most 50 characters"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_FORM_VALUES, ids=lambda v: str(v)[:20])
def test_the_form_refuses_it_with_a_field_error(client, staff_a, acme, field, value, message):
    client.force_login(staff_a)
    response = client.post("/activities/", form_data(acme, **{field: value}))
    text = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert message in text
    assert 'aria-invalid="true"' in text
    no_traceback(text)
    assert not Activity.objects.exists()


def test_the_form_refuses_invalid_utf8(client, staff_a, acme):
    client.force_login(staff_a)
    body = urlencode(form_data(acme)) + "&notes=caf%E9"
    response = client.post("/activities/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
    assert not Activity.objects.exists()


def test_the_form_refuses_an_oversized_post_before_reading_it(client, staff_a, acme):
    client.force_login(staff_a)
    body = urlencode(form_data(acme, notes="n" * (3 * 1024 * 1024)))  # as the browser posts this form
    response = client.post("/activities/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "The request is too large: at most 2.5\xa0MB" in response.content.decode()
    assert not Activity.objects.exists()


def test_formulas_typed_in_the_form_are_stored_as_text_and_exported_with_a_quote(client, staff_a, acme):
    client.force_login(staff_a)
    response = client.post("/activities/", form_data(acme, kind="=1+1", notes="@SUM(A1:A9)"))
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.kind, activity.notes) == ("=1+1", "@SUM(A1:A9)")
    rows = exported_cells(client)
    assert rows[1][rows[0].index("kind")] == "'=1+1"
    assert rows[1][rows[0].index("notes")] == "'@SUM(A1:A9)"


# ---------- POST /api/activities/ ----------


def api_body(**changes) -> dict:
    body = {
        "occurred_at": "2026-03-01T09:30:00-05:00",
        "account": "ACME",
        "job": "learn",
        "channel": "digital",
        "kind": "call",
        "minutes": 30,
    }
    return {**body, **changes}


BAD_API_VALUES = [
    ("occurred_at", "0000-03-01T09:30:00Z", "Datetime has wrong format"),
    ("occurred_at", "99999-03-01T09:30:00Z", "Datetime has wrong format"),
    ("occurred_at", "2026-02-30T09:30:00Z", "Datetime has wrong format"),
    ("occurred_at", "2026-03-01T09:61:00Z", "Datetime has wrong format"),
    ("occurred_at", "9999-12-31T23:00:00-05:00", "Dates must lie between"),
    ("occurred_at", "2026-03-01T09:30:00+17:18", "A UTC offset lies between"),
    ("minutes", "1e309", "A valid integer is required"),
    ("minutes", -1, "greater than or equal to 0"),
    ("minutes", 10**20, "less than or equal to 2147483647"),
    ("notes", "nul\x00byte", "Null characters are not allowed"),
]


@pytest.fixture
def api(staff_a):
    client = APIClient()
    client.force_login(staff_a)
    return client


@pytest.mark.parametrize(("field", "value", "message"), BAD_API_VALUES, ids=lambda v: str(v)[:20])
def test_the_api_refuses_it_with_a_field_error(api, acme, field, value, message):
    response = api.post("/api/activities/", api_body(**{field: value}), format="json")
    assert response.status_code == 400
    assert any(message in text for text in response.json()[field]), response.json()
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("invalid UTF-8", b'{"account": "ACME", "kind": "caf\xe9"}', "JSON parse error"),
        ("UTF-16", '{"account": "ACME"}'.encode("utf-16"), "JSON parse error"),
        ("a BOM", b'\xef\xbb\xbf{"account": "ACME"}', "JSON parse error"),
        ("not JSON", b'{"account": "ACME",', "JSON parse error"),
    ],
)
def test_the_api_refuses_a_body_it_cannot_read(api, acme, name, body, message):
    response = api.generic("POST", "/api/activities/", body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    no_traceback(response.json()["detail"])
    assert not Activity.objects.exists()


def test_the_api_refuses_an_oversized_body_before_reading_it(api, acme):
    response = api.post("/api/activities/", api_body(notes="n" * (3 * 1024 * 1024)), format="json")
    assert response.status_code == 413
    assert "The request is too large" in response.json()["detail"]
    assert not Activity.objects.exists()


def test_the_api_refuses_nul_and_invalid_utf8_in_the_address(api, acme):
    for url in ("/api/accounts/%00/", "/api/activities/?kind=%00", "/activities/accounts/?account_search=%00"):
        response = api.get(url)
        assert response.status_code == 400, url
        assert "Null characters are not allowed" in response.content.decode()
    response = api.get("/api/activities/?kind=caf%E9")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["detail"]


def test_formulas_posted_to_the_api_are_stored_as_text_and_exported_with_a_quote(api, acme):
    response = api.post("/api/activities/", api_body(kind="=HYPERLINK(1)", notes="+1"), format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "=HYPERLINK(1)"
    rows = exported_cells(api)
    assert rows[1][rows[0].index("kind")] == "'=HYPERLINK(1)"
    assert rows[1][rows[0].index("notes")] == "'+1"


@pytest.mark.parametrize("field", ["account", "contact"])
def test_a_nul_in_a_reference_is_a_field_error_not_a_server_error(api, acme, field):
    response = api.post("/api/activities/", api_body(**{field: "ACME\x00"}), format="json")
    assert response.status_code == 400
    assert response.json()[field] == ["Null characters are not allowed."]
    assert not Activity.objects.exists()
