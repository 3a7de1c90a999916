"""``POST /api/imports/`` and ``GET /api/imports/{id}/``: admins only, 202, progress while running, final status."""

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobs import tasks
from jobs.imports import parsing
from jobs.models import Activity, ImportJob
from tests.support.factories import AccountFactory, PodFactory

URL = "/api/imports/"

ACTIVITIES = (
    b"external_id,occurred_at,account,job,channel,kind\n"
    b"ACT-1,2026-03-01T09:30:00-05:00,ACME,learn,digital,webinar\n"
    b"ACT-2,2026-03-02T09:30:00-05:00,ACME,buy,in_person,demo\n"
)


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def upload(content=ACTIVITIES, name="activities.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="ACME", pod=PodFactory(slug="southeast-us"))


@pytest.mark.django_db
def test_an_admin_uploads_a_file_gets_202_and_follows_it_to_success(
    acme, admin_user, django_capture_on_commit_callbacks
):
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(URL, {"kind": "activities", "file": upload()}, format="multipart")
    assert response.status_code == 202
    assert len(callbacks) == 1  # the worker is asked once the upload is committed
    import_id = response.json()["id"]

    body = client.get(f"{URL}{import_id}/").json()
    assert {key: body[key] for key in ("id", "kind", "status", "rows_total", "rows_processed", "errors")} == {
        "id": import_id,
        "kind": "activities",
        "status": "succeeded",
        "rows_total": 2,
        "rows_processed": 2,
        "errors": [],
    }
    assert (body["rows_created"], body["rows_updated"]) == (2, 0)
    assert set(Activity.objects.values_list("external_id", flat=True)) == {"ACT-1", "ACT-2"}
    assert ImportJob.objects.get(pk=import_id).created_by == admin_user


@pytest.mark.django_db
def test_a_bad_file_ends_failed_with_the_report_in_the_api(acme, group_admin, django_capture_on_commit_callbacks):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=group_admin).key}")
    content = ACTIVITIES + b"ACT-3,2026-03-03T09:30:00,GHOST,learn,digital,webinar\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"kind": "activities", "file": upload(content)}, format="multipart")
    assert response.status_code == 202
    body = client.get(f"{URL}{response.json()['id']}/").json()
    assert body["status"] == "failed"
    assert [(error["line"], error["column"]) for error in body["errors"]] == [(4, "occurred_at"), (4, "account")]
    assert body["error_count"] == 2
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_the_uploaded_file_is_kept_under_var_imports(acme, admin_user, var_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(URL, {"kind": "activities", "file": upload()}, format="multipart")
    stored = ImportJob.objects.get(pk=response.json()["id"]).file.path
    assert stored.startswith(str(var_dir / "imports"))
    with open(stored, "rb") as file:
        assert file.read() == ACTIVITIES


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["leader_a", "staff_a", "outsider"])
def test_anyone_but_an_admin_is_refused_an_upload_and_sees_no_import(request, acme, admin_user, role):
    user = request.getfixturevalue(role)
    import_job = ImportJob.objects.create(kind="activities", file=upload(), created_by=admin_user)
    client = client_for(user)
    response = client.post(URL, {"kind": "activities", "file": upload()}, format="multipart")
    assert response.status_code == 403
    assert ImportJob.objects.count() == 1
    assert client.get(f"{URL}{import_job.pk}/").status_code == 404
    assert client.get(URL).json()["count"] == 0


@pytest.mark.django_db
def test_an_anonymous_caller_is_refused(acme):
    response = APIClient().post(URL, {"kind": "activities", "file": upload()}, format="multipart")
    assert response.status_code in (401, 403)
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_oversized_upload_is_refused_and_nothing_is_stored(acme, admin_user, settings, var_dir):
    settings.UCE_IMPORT_MAX_BYTES = len(ACTIVITIES) - 1
    response = client_for(admin_user).post(URL, {"kind": "activities", "file": upload()}, format="multipart")
    assert response.status_code == 413
    assert "at most" in response.json()["file"][0]
    assert not ImportJob.objects.exists()
    assert not (var_dir / "imports").exists()


@pytest.mark.django_db
def test_an_upload_larger_than_the_limit_is_refused_before_its_body_is_read(acme, admin_user, settings):
    settings.UCE_IMPORT_MAX_BYTES = 1000
    big = ACTIVITIES + b"".join(b"ACT-%d,2026-03-01T09:30:00Z,ACME,learn,digital,call\n" % n for n in range(5000))
    response = client_for(admin_user).post(URL, {"kind": "activities", "file": upload(big)}, format="multipart")
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_unknown_kind_or_no_file_is_a_400(acme, admin_user):
    client = client_for(admin_user)
    assert client.post(URL, {"kind": "invoices", "file": upload()}, format="multipart").status_code == 400
    assert client.post(URL, {"kind": "activities"}, format="multipart").status_code == 400
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_runs(admin_user, monkeypatch):
    """A worker (a thread here) runs the import; meanwhile the API shows it running, rows counting up."""
    AccountFactory(external_id="ACME", pod=PodFactory(slug="southeast-us"))
    monkeypatch.setattr(parsing, "PROGRESS_EVERY", 500)
    rows = 20_000
    content = b"external_id,occurred_at,account,job,channel,kind\n" + b"".join(
        b"ACT-%d,2026-03-01T09:30:00Z,ACME,learn,digital,call\n" % n for n in range(rows)
    )
    workers = []

    def run_in_a_thread(import_id):
        def work():
            try:
                tasks.run_import(import_id)
            finally:
                connections.close_all()

        thread = threading.Thread(target=work)
        workers.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.run_import, "delay", run_in_a_thread)
    client = client_for(admin_user)
    response = client.post(URL, {"kind": "activities", "file": upload(content)}, format="multipart")
    assert response.status_code == 202
    url = f"{URL}{response.json()['id']}/"

    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(url).json()
        seen.append((body["status"], body["rows_processed"], body["rows_total"]))
        if body["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.01)
    workers[0].join(timeout=60)

    assert seen[-1] == ("succeeded", rows, rows)
    counting = [(done, total) for status, done, total in seen if status == "running" and total and 0 < done < total]
    assert counting, f"no progress seen while running: {seen[:5]} ... {seen[-5:]}"
    assert all(done <= total for done, total in counting)
    assert [done for done, _ in counting] == sorted(done for done, _ in counting)
    assert Activity.objects.count() == rows
