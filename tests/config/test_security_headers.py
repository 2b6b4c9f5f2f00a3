"""Every page carries a Content-Security-Policy without inline script, and the pages still render;
production settings pass `check --deploy` and keep the API docs for signed-in users."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from promises import services as ps
from tests.factories import UserFactory
from tests.gate_flow import approved

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
DATA_TYPES = ("application/json", "application/ld+json")


def inline_scripts_without_nonce(html: str) -> list[str]:
    """Script elements with code in them and no nonce (a data block is not code)."""
    found = []
    for attributes, body in SCRIPT_TAG.findall(html):
        if "src=" in attributes or not body.strip() or "nonce=" in attributes:
            continue
        if any(kind in attributes for kind in DATA_TYPES):
            continue
        found.append(body.strip()[:80])
    return found


def assert_strict_csp(response) -> None:
    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    if "html" in response.get("Content-Type", ""):
        assert inline_scripts_without_nonce(response.content.decode()) == []


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_every_kind_of_page_has_the_policy_and_renders(superuser_client, make_promise, seller, service_user,
                                                      legal_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)
    promise.refresh_from_db()
    pages = {
        "/admin/login/": Client(),
        "/admin/": superuser_client,
        reverse("admin:promises_servicepromise_changelist"): superuser_client,
        reverse("admin:promises_servicepromise_change", args=[promise.pk]): superuser_client,
        reverse("admin:qualitygates_gateplan_changelist"): superuser_client,
        "/api/docs/": superuser_client,
        "/api/docs/?script=": superuser_client,
        "/api/schema/": superuser_client,
        "/api/promises/": superuser_client,  # the browsable API
        reverse("promise-status", args=[promise.status_token]): Client(),
        "/health/": Client(),
    }
    for path, client in pages.items():
        response = client.get(path, HTTP_ACCEPT="text/html" if path == "/api/promises/" else "*/*")
        assert response.status_code == 200, (path, response.status_code)
        assert_strict_csp(response)


@pytest.mark.django_db
def test_the_swagger_ui_loads_its_start_up_script_as_a_file(superuser_client):
    page = superuser_client.get("/api/docs/").content.decode()
    assert re.search(r'<script src="[^"]*\?script=', page)
    script = superuser_client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript") and b"SwaggerUIBundle" in script.content


def test_the_checker_finds_an_inline_script():
    assert inline_scripts_without_nonce("<script>alert(1)</script><script src='/a.js'></script>") == ["alert(1)"]
    assert inline_scripts_without_nonce('<script nonce="abc">ok()</script>') == []
    assert inline_scripts_without_nonce('<script type="application/json" id="x">{}</script>') == []


def _production(code: list[str]) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "deploy-check-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
        "DJANGO_ALLOWED_HOSTS": "sqg.example.com",
        "DATABASE_URL": "postgres://check@127.0.0.1:5432/check",
        "REDIS_URL": os.environ.get("SQG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    }
    return subprocess.run([sys.executable, *code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_production_settings_pass_the_deployment_checks():
    result = _production(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.redis
def test_in_production_the_api_docs_need_a_signed_in_user():
    probe = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='sqg.example.com')\n"
        "print(c.get('/api/schema/', secure=True).status_code, c.get('/api/docs/', secure=True).status_code,"
        " c.get('/api/docs/').status_code, c.get('/api/docs/', secure=True)['Strict-Transport-Security'])\n"
    )
    result = _production(["-c", probe])
    assert result.returncode == 0, result.stderr
    schema, docs, plain_http, hsts = result.stdout.split(maxsplit=3)
    assert (schema, docs, plain_http) == ("401", "401", "301")
    assert hsts.strip() == "max-age=31536000; includeSubDomains; preload"
