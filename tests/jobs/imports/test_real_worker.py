"""An import on a real Celery worker that is SIGKILLed mid-import: nothing partial, then it completes.

Decision (documented in jobs/tasks.py): an import interrupted by a lost worker is *run again*, not
marked failed.  Its transaction died with the worker's session, so nothing of it was written; the
message was never acknowledged (``acks_late``), so the broker hands it to the next worker — on
Redis once the visibility timeout (5 s in these tests) has passed — and the task, seeing the import
not finished, starts it over from the file.  kombu's filesystem transport (a machine without Redis)
does not redeliver, so there the test re-sends the task, as an operator would.
"""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from devtools.workers import Worker, choose_broker, producer_on, wait_until
from jobs.models import Activity, ImportJob
from jobs.tasks import run_import
from tests.support.factories import AccountFactory, PodFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 200_000


@pytest.fixture
def broker(tmp_path):
    return choose_broker(tmp_path)


@pytest.fixture
def shared_var_dir(settings, tmp_path, monkeypatch):
    """The VAR_DIR of this process and of the workers it starts, so they find the uploaded files.

    ``tmp_path`` itself: the filesystem broker's folder is ``tmp_path / "broker"``, which workers
    find under their VAR_DIR.
    """
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("UCE_VAR_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def start_worker(broker, tmp_path, shared_var_dir):
    workers = []

    def start(name):
        worker = Worker(broker, tmp_path / f"{name}.log")
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def activities_file() -> bytes:
    rows = (f"KILL-{n},2026-03-01T09:30:00Z,ACC-{n % 20},learn,digital,call\n" for n in range(ROWS))
    return ("external_id,occurred_at,account,job,channel,kind\n" + "".join(rows)).encode()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_import_completes_later(broker, start_worker, admin_user):
    pod = PodFactory(slug="southeast-us")
    for n in range(20):
        AccountFactory(external_id=f"ACC-{n}", pod=pod)
    client = APIClient()
    client.force_login(admin_user)

    first = start_worker("first")
    with producer_on(broker):
        upload = SimpleUploadedFile("big.csv", activities_file(), content_type="text/csv")
        response = client.post("/api/imports/", {"kind": "activities", "file": upload}, format="multipart")
        assert response.status_code == 202
        import_id = response.json()["id"]

        def state():
            return ImportJob.objects.filter(pk=import_id).values_list("status", "rows_processed").get()

        wait_until(
            lambda: state()[0] == "running" and state()[1] > 0,
            timeout=60,
            interval=0.05,
            message="the import is under way",
        )
        first.kill()
        assert first.process.returncode == -9
        assert state()[0] == "running"
        assert not Activity.objects.filter(external_id__startswith="KILL-").exists()

        if broker.is_redis:
            # kombu restores unacknowledged messages older than the visibility timeout when a worker
            # starts polling (later only every ~100 s): start the next one once the message is that old.
            time.sleep(broker.transport_options["visibility_timeout"] + 1)
            start_worker("second")
        else:
            start_worker("second")
            run_import.delay(import_id)  # no redelivery on the filesystem transport
        wait_until(lambda: state()[0] in ("succeeded", "failed"), timeout=180, interval=0.5, message="import finished")

    import_job = ImportJob.objects.get(pk=import_id)
    assert (import_job.status, import_job.errors) == ("succeeded", [])
    assert (import_job.rows_total, import_job.rows_processed, import_job.rows_created) == (ROWS, ROWS, ROWS)
    assert Activity.objects.filter(external_id__startswith="KILL-").count() == ROWS
