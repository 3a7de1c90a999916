"""Security headers on every kind of response, cookie flags, and templates that a strict CSP can serve.

The policy (uce/settings/base.py) is the same in every environment: what a test or a developer's
browser sees is what production sends (production adds HSTS and Secure cookies: tests/uce/test_settings.py).
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STATIC_JS = Path(settings.BASE_DIR) / "static" / "js"


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (piece.strip() for piece in header.split(";"))):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def admin_client(client, admin_user, pod_a):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/pods/southeast-us/",
        "/pods/compare/",
        "/activities/",
        "/imports/",
        "/admin/",
        "/api/pods/",
        "/api/schema/",
    ],
)
def test_every_response_carries_the_strict_policy_and_the_other_headers(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200, url
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_login_page_and_error_pages_carry_the_policy_too(client):
    assert policy_of(client.get("/auth/login/"))["script-src"] == ["'self'"]
    assert policy_of(client.get("/no-such-page/"))["script-src"] == ["'self'"]


def test_only_the_api_docs_relax_styles_and_never_scripts(admin_client):
    response = admin_client.get("/api/docs/")
    assert response.status_code == 200
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]
    html = response.content.decode()
    # Swagger UI starts from a script file, not an inline one (drf-spectacular's "split" view).
    assert re.search(r"<script>\s*\S", html) is None
    script = admin_client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_the_session_and_csrf_cookies_are_httponly_and_same_site(client, leader_a):
    page = client.get("/auth/login/")
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post("/auth/login/", {"username": "leader-a", "password": "demo", "next": "/"})
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert int(session["max-age"]) <= 12 * 3600


def template_files():
    """The templates of pages the site serves under its CSP; emails (``*/email/``) are read by mail clients."""
    return sorted(path for path in TEMPLATES.rglob("*.html") if "email" not in path.relative_to(TEMPLATES).parts)


def email_templates():
    return sorted(path for path in TEMPLATES.rglob("*.html") if "email" in path.relative_to(TEMPLATES).parts)


@pytest.mark.parametrize("path", email_templates(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_emails_carry_no_code(path):
    """Mail clients drop stylesheets, so emails style inline; they never carry a script or an event handler."""
    html = path.read_text()
    assert re.search(r"<script\b", html) is None
    assert re.search(r"\s(on[a-z]+)=", html) is None and "javascript:" not in html


@pytest.mark.parametrize("path", template_files(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_template_needs_unsafe_inline_or_eval(path):
    """Scripts come from static files; data travels in json_script blocks, styles in static CSS."""
    # Template comments are not sent to the browser (and may well talk about <style>).
    html = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", "", path.read_text(), flags=re.S)
    for script in re.finditer(r"<script\b([^>]*)>", html):
        attributes = script.group(1)
        assert "src=" in attributes or 'type="application/json"' in attributes, f"inline script: {script.group()}"
    assert re.search(r"<style\b", html) is None, "inline <style>: move it to static/css/"
    assert re.search(r"\sstyle=", html) is None, "style attribute: use a class in static/css/"
    assert re.search(r"\s(on[a-z]+|hx-on[:\w-]*|data-hx-on[:\w-]*)=", html) is None, "inline event handler"
    assert "js:" not in html and "javascript:" not in html, "code in an attribute value"


@pytest.mark.parametrize("path", sorted(STATIC_JS.glob("*.js")), ids=lambda path: path.name)
def test_our_scripts_neither_eval_nor_write_inline_styles(path):
    source = path.read_text()
    assert re.search(r"\beval\(|new Function\(|setTimeout\(\s*['\"]", source) is None
    assert re.search(r"setAttribute\(\s*['\"]style['\"]|\.innerHTML\s*=", source) is None
