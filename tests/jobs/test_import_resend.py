"""An upload whose task could not be sent (broker down) is accepted, then sent again by beat."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from kombu.exceptions import OperationalError

from jobs import tasks
from jobs.imports.services import import_start
from jobs.models import ImportJob
from pods.models import Account

pytestmark = pytest.mark.django_db


def test_an_import_uploaded_while_the_broker_is_down_is_imported_later(
    pod_a, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    upload = SimpleUploadedFile("accounts.csv", b"external_id,name,pod\nACC-1,Harbor Logistics,southeast-us\n")
    with monkeypatch.context() as patched:
        patched.setattr(tasks.run_import, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            job = import_start(kind="accounts", file=upload, created_by=admin_user)
    assert ImportJob.objects.get(pk=job.pk).status == "pending"
    assert not Account.objects.exists()

    ImportJob.objects.filter(pk=job.pk).update(created_at=job.created_at - dt.timedelta(minutes=2))
    tasks.resend_pending_imports.apply()
    assert ImportJob.objects.get(pk=job.pk).status == "succeeded"
    assert Account.objects.filter(external_id="ACC-1", pod=pod_a).exists()
