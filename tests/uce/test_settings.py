"""Configuration rules: production refuses to start without its essentials, and only PostgreSQL is accepted.

Each case runs Django in a fresh interpreter, because settings are read once per process.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ESSENTIALS = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL")
SETUP_DJANGO = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


@pytest.fixture
def production_env(tmp_path):
    """An environment with every production essential set; the database is never contacted."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "UCE_EMBEDDED_PGDATA")}
    env.update(
        DJANGO_SETTINGS_MODULE="uce.settings.production",
        UCE_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="uce.example.com",
        DATABASE_URL="postgresql://uce:secret@db.example.com:5432/uce",
    )
    return env


def run(args, env, timeout=60):
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("missing", PRODUCTION_ESSENTIALS)
def test_production_refuses_to_start_without_an_essential(production_env, missing):
    del production_env[missing]
    result = run(["-c", SETUP_DJANGO], production_env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_treats_an_empty_value_as_missing(production_env):
    production_env["ALLOWED_HOSTS"] = ""
    result = run(["-c", SETUP_DJANGO], production_env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_starts_with_debug_off_even_if_asked_for_debug(production_env):
    production_env["DEBUG"] = "1"
    result = run(["-c", SETUP_DJANGO], production_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_deploy_check_runs_on_production_settings(production_env):
    result = run(["manage.py", "check", "--deploy"], production_env)
    assert result.returncode == 0, result.stderr
    assert "System check identified" in result.stdout
    assert "ERRORS" not in result.stdout + result.stderr


@pytest.mark.parametrize("settings_module", ["uce.settings.production", "uce.settings.local"])
def test_a_database_other_than_postgresql_is_refused(production_env, settings_module, tmp_path):
    production_env.update(DJANGO_SETTINGS_MODULE=settings_module, DATABASE_URL="sqlite:///x.db")
    result = subprocess.run(
        [sys.executable, "-c", SETUP_DJANGO],
        cwd=tmp_path,
        env={**production_env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_deploy_check_is_clean_even_of_warnings(production_env):
    """OWASP ASVS 14.x: ``check --deploy`` finds nothing to warn about with production settings."""
    production_env["SECRET_KEY"] = secrets.token_urlsafe(64)
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


SHOW_SECURITY_SETTINGS = """
import django, json; django.setup()
from django.conf import settings as s
print(json.dumps({
    "hsts": s.SECURE_HSTS_SECONDS, "hsts_subdomains": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "ssl_redirect": s.SECURE_SSL_REDIRECT, "session_secure": s.SESSION_COOKIE_SECURE,
    "session_httponly": s.SESSION_COOKIE_HTTPONLY, "session_samesite": s.SESSION_COOKIE_SAMESITE,
    "csrf_secure": s.CSRF_COOKIE_SECURE, "csrf_httponly": s.CSRF_COOKIE_HTTPONLY,
    "behind_proxy": s.UCE_BEHIND_PROXY, "axes_limit": s.AXES_FAILURE_LIMIT,
    "axes_cooloff_minutes": s.AXES_COOLOFF_TIME.total_seconds() / 60,
    "csp_scripts": s.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"],
}))
"""


def test_production_sends_cookies_over_https_only_and_asks_browsers_to_stay_on_https(production_env):
    result = run(["-c", SHOW_SECURITY_SETTINGS], production_env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["hsts"] >= 31_536_000 and shown["hsts_subdomains"] and shown["ssl_redirect"]
    assert shown["session_secure"] and shown["session_httponly"] and shown["session_samesite"] == "Lax"
    assert shown["csrf_secure"] and shown["csrf_httponly"]
    # Sign-in throttling: five failures, fifteen minutes; the address is the one the TLS proxy saw.
    assert shown["axes_limit"] == 5 and shown["axes_cooloff_minutes"] == 15 and shown["behind_proxy"]
    assert shown["csp_scripts"] == ["'self'"]
