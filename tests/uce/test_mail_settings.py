"""Mail: what the environment's EMAIL_* variables choose (uce/settings/mail.py), and a real send over SMTP.

The settings cases that go through ``django.setup()`` run in a fresh interpreter: settings are read once per process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from uce.settings.mail import mail_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SMTP = "django.core.mail.backends.smtp.EmailBackend"
FILES = "django.core.mail.backends.filebased.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def test_a_multipart_message_arrives_over_smtp_as_sent(smtp_server):
    message = mail.EmailMultiAlternatives(
        subject="Weekly digest – Southeast US",
        body="Bonjour Léa,\nBookings: 12\n",
        to=["Léa Leader <leader@example.com>"],
        bcc=["auditor@example.com"],
    )
    message.attach_alternative("<p>Bonjour Léa,</p><p>Bookings: <strong>12</strong></p>", "text/html")
    assert message.send() == 1

    (received,) = smtp_server.wait_for(1)
    assert received["Subject"] == "Weekly digest – Southeast US"
    assert received["From"] == "UCE pod dashboard <dashboard@uce.invalid>"
    assert [(a.display_name, a.addr_spec) for a in received["To"].addresses] == [("Léa Leader", "leader@example.com")]
    assert received["Bcc"] is None  # in the envelope only
    assert received.rcpt_tos == ["leader@example.com", "auditor@example.com"]
    assert received.mail_from == "dashboard@uce.invalid"
    assert received.get_content_type() == "multipart/alternative"
    text, html = received.iter_parts()
    assert (text.get_content_type(), text.get_content()) == ("text/plain", "Bonjour Léa,\nBookings: 12\n")
    assert (html.get_content_type(), html.get_content()) == (
        "text/html",
        "<p>Bonjour Léa,</p><p>Bookings: <strong>12</strong></p>",
    )
    assert mail.outbox == []  # really sent, not kept in memory


def test_each_test_starts_with_an_empty_sink(smtp_server):
    assert smtp_server.messages() == []
    mail.send_mail("One", "first", None, ["a@example.com"])
    mail.send_mail("Two", "second", None, ["b@example.com"])
    assert [m["Subject"] for m in smtp_server.wait_for(2)] == ["One", "Two"]  # arrival order


def test_without_email_host_mail_is_written_under_var_mail(tmp_path):
    assert mail_settings({}, tmp_path) == {
        "EMAIL_BACKEND": FILES,
        "EMAIL_HOST": "localhost",
        "EMAIL_PORT": 25,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "DEFAULT_FROM_EMAIL": "UCE pod dashboard <dashboard@uce.invalid>",
    }
    assert mail_settings({"EMAIL_HOST": " "}, tmp_path)["EMAIL_BACKEND"] == FILES


def test_email_host_sends_over_smtp_with_the_environments_values(tmp_path):
    environ = {
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": "587",
        "EMAIL_HOST_USER": "uce",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": "true",
        "EMAIL_TIMEOUT": "30",
        "DEFAULT_FROM_EMAIL": "Dashboard <noreply@example.com>",
    }
    settings = mail_settings(environ, tmp_path)
    assert {key: value for key, value in settings.items() if key != "EMAIL_FILE_PATH"} == {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "uce",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 30,
        "DEFAULT_FROM_EMAIL": "Dashboard <noreply@example.com>",
    }
    assert mail_settings({"EMAIL_HOST": "smtp.example.com", "EMAIL_USE_TLS": "0"}, tmp_path)["EMAIL_USE_TLS"] is False


@pytest.mark.parametrize("host", ["", "smtp.example.com"])
def test_email_backend_overrides_the_choice(tmp_path, host):
    environ = {"EMAIL_HOST": host, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    assert mail_settings(environ, tmp_path)["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_tls_and_ssl_together_are_refused(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_USE_TLS and EMAIL_USE_SSL"):
        mail_settings({"EMAIL_HOST": "smtp.example.com", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, tmp_path)


SEND_AND_REPORT = """
import json, django
django.setup()
from django.conf import settings
from django.core import mail
if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    mail.send_mail("Weekly digest", "Bookings: 12", None, ["leader@example.com"])
names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_FILE_PATH", "UCE_SITE_URL")
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def settings_in_a_fresh_process(settings_module, var_dir, **environ):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "DEFAULT_FROM_EMAIL", "UCE_SITE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        UCE_VAR_DIR=str(var_dir),
        DATABASE_URL="postgresql://uce@db.example.com:5432/uce",  # never contacted
        **environ,
    )
    result = subprocess.run(
        [sys.executable, "-c", SEND_AND_REPORT], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_make_run_writes_each_message_as_a_file_under_var_mail(tmp_path):
    var_dir = tmp_path / "var"
    settings = settings_in_a_fresh_process("uce.settings.local", var_dir)
    assert settings["EMAIL_BACKEND"] == FILES
    assert settings["EMAIL_FILE_PATH"] == str(var_dir / "mail")
    assert settings["UCE_SITE_URL"] == "http://127.0.0.1:8000"
    (written,) = (var_dir / "mail").iterdir()
    assert "Subject: Weekly digest" in written.read_text()


def test_the_settings_use_smtp_when_email_host_is_set(tmp_path):
    settings = settings_in_a_fresh_process(
        "uce.settings.local", tmp_path / "var", EMAIL_HOST="smtp.example.com", UCE_SITE_URL="https://uce.example.com/"
    )
    assert (settings["EMAIL_BACKEND"], settings["EMAIL_HOST"]) == (SMTP, "smtp.example.com")
    assert settings["UCE_SITE_URL"] == "https://uce.example.com"
    assert not (tmp_path / "var" / "mail").exists()


def test_test_settings_keep_mail_in_memory_even_with_email_host_set(tmp_path):
    settings = settings_in_a_fresh_process("uce.settings.test", tmp_path / "var", EMAIL_HOST="smtp.example.com")
    assert settings["EMAIL_BACKEND"] == LOCMEM
