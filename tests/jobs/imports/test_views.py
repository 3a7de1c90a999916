"""The import page and the admin: admins upload and follow an import; nobody else gets in."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import Activity, ImportJob
from tests.support.factories import AccountFactory, PodFactory

pytestmark = pytest.mark.django_db

CONTENT = (
    b"external_id,occurred_at,account,job,channel,kind\n"
    b"ACT-1,2026-03-01T09:30:00-05:00,ACME,learn,digital,webinar\n"
    b"ACT-2,2026-03-02T09:30:00-05:00,ACME,buy,in_person,demo\n"
)


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="ACME", pod=PodFactory(slug="southeast-us"))


def upload(content=CONTENT):
    return SimpleUploadedFile("activities.csv", content, content_type="text/csv")


def test_an_admin_uploads_on_the_page_and_is_sent_to_the_import(
    client, acme, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    page = client.get("/imports/")
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {"kind": "activities", "file": upload()})
    import_job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{import_job.pk}/"
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert "2 rows imported" in detail.content.decode()
    assert Activity.objects.count() == 2


def test_the_progress_partial_polls_every_second_until_the_import_has_finished(client, acme, admin_user):
    client.force_login(admin_user)
    import_job = ImportJob.objects.create(kind="activities", file=upload(), status="running", rows_total=200_000)
    ImportJob.objects.filter(pk=import_job.pk).update(rows_processed=50_000)
    running = client.get(f"/imports/{import_job.pk}/progress/", headers={"HX-Request": "true"}).content.decode()
    assert running.lstrip().startswith('<section id="import-progress"')
    assert "<html" not in running
    assert 'hx-trigger="every 1s"' in running
    assert f'hx-get="/imports/{import_job.pk}/progress/"' in running
    assert 'max="200000" value="50000"' in running
    assert "Checked 50,000 of 200,000 rows (25%)" in running

    ImportJob.objects.filter(pk=import_job.pk).update(
        status="succeeded", rows_processed=200_000, rows_created=150_000, rows_updated=0
    )
    finished = client.get(f"/imports/{import_job.pk}/progress/").content.decode()
    assert "hx-trigger" not in finished
    assert "200,000 rows imported" in finished
    assert "150,000 new, 0 updated, 50,000 unchanged" in finished


def test_a_failed_import_shows_the_row_numbered_report(client, acme, admin_user, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    content = CONTENT + b"ACT-3,2026-03-03T09:30:00Z,GHOST,learn,digital,webinar\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {"kind": "activities", "file": upload(content)})
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in page
    assert '<td class="num">4</td>' in page
    assert "Unknown account &quot;GHOST&quot;." in page
    assert not Activity.objects.exists()


def test_the_page_refuses_a_file_over_the_limit(client, acme, admin_user, settings):
    settings.UCE_IMPORT_MAX_BYTES = 10
    client.force_login(admin_user)
    response = client.post("/imports/", {"kind": "activities", "file": upload()})
    assert response.status_code == 200  # the form again, with the reason
    assert "at most 10" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("role", ["leader_a", "staff_a", "outsider"])
def test_only_admins_get_the_import_pages(request, client, acme, admin_user, role):
    import_job = ImportJob.objects.create(kind="activities", file=upload(), created_by=admin_user)
    client.force_login(request.getfixturevalue(role))
    assert client.get("/imports/").status_code == 403
    assert client.post("/imports/", {"kind": "activities", "file": upload()}).status_code == 403
    assert client.get(f"/imports/{import_job.pk}/").status_code == 404
    assert client.get(f"/imports/{import_job.pk}/progress/").status_code == 404
    assert ImportJob.objects.count() == 1


def test_a_group_admin_gets_the_page_and_anonymous_visitors_are_sent_to_log_in(client, group_admin):
    assert client.get("/imports/")["Location"].startswith("/auth/login/")
    client.force_login(group_admin)
    assert client.get("/imports/").status_code == 200


def test_the_admin_lists_imports_read_only_and_links_to_the_upload_page(client, acme, admin_user):
    import_job = ImportJob.objects.create(
        kind="activities",
        file=upload(),
        status="failed",
        rows_total=3,
        rows_processed=3,
        errors=[{"line": 4, "column": "account", "message": 'Unknown account "GHOST".'}],
        error_count=1,
    )
    client.force_login(admin_user)
    listing = client.get("/admin/jobs/importjob/").content.decode()
    assert "3 / 3 rows (100%)" in listing
    assert '<a href="/imports/" class="addlink">Upload a CSV file</a>' in listing
    assert client.get("/admin/jobs/importjob/add/").status_code == 403
    change = client.get(f"/admin/jobs/importjob/{import_job.pk}/change/").content.decode()
    assert "Unknown account &quot;GHOST&quot;." in change
    assert 'name="_save"' not in change
