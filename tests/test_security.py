"""Headers on every page, HTTPS settings, login rate limits, idle sessions, password changes."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.helpers import STRONG_KEY, clean_env, run_python

pytestmark = pytest.mark.django_db

PAGES = ["/healthz", "/admin/login/", "/admin/", "/admin/credentials/credential/", "/models/add/"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers(admin_client, path):
    response = admin_client.get(path)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


HTTPS_PROBE = """
import django, json
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
page = client.get("/admin/login/", secure=True)
plain = client.get("/admin/login/")
cookies = {name: dict(morsel) for name, morsel in page.cookies.items()}
print(json.dumps({
    "hsts": page.get("Strict-Transport-Security"),
    "redirect": [plain.status_code, plain.get("Location")],
    "csrf_cookie": cookies.get("csrftoken"),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
}))
"""


def test_with_https_on_cookies_are_secure_and_hsts_is_sent(tmp_path):
    env = clean_env(
        SECRET_KEY="s" * 50,
        LITECREDS_MASTER_KEY=STRONG_KEY,
        LITECREDS_HTTPS="true",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="litecreds.settings",
    )
    result = run_python("-c", HTTPS_PROBE, env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["hsts"].startswith("max-age=31536000; includeSubDomains")
    assert answer["redirect"] == [301, "https://testserver/admin/login/"]
    assert answer["csrf_cookie"]["secure"] is True
    assert answer["session_secure"] is True and answer["session_httponly"] is True


# --- logins ----------------------------------------------------------------------------------------


@pytest.fixture
def alice():
    return get_user_model().objects.create_superuser("alice", "alice@example.com", "alice-password-1")


def login(client, username, password, address="10.0.0.1"):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_too_many_failures_lock_the_user_even_with_the_right_password(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice", "wrong")
    locked = login(client, "alice", "alice-password-1", address="10.0.0.99")  # another address too
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_too_many_failures_from_one_address_lock_that_address(client, alice, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"nobody{i}", "wrong", address="10.0.0.7")
    assert login(client, "alice", "alice-password-1", address="10.0.0.7").status_code == 429
    other = login(client, "alice", "alice-password-1", address="10.0.0.8")
    assert other.status_code == 302


def test_a_good_login_works_and_resets_the_count(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "alice", "wrong")
    assert login(client, "alice", "alice-password-1").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "alice", "wrong")
    assert login(client, "alice", "alice-password-1").status_code == 302


def test_sessions_end_after_the_idle_time(client, alice, settings):
    assert login(client, "alice", "alice-password-1").status_code == 302
    assert client.get("/admin/").status_code == 200
    remaining = (Session.objects.get().expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert 30 * 60 - 60 < remaining <= 30 * 60
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_each_request_extends_an_active_session(client, alice):
    login(client, "alice", "alice-password-1")
    first = Session.objects.get().expire_date
    client.get("/admin/")
    assert Session.objects.get().expire_date >= first


def test_a_password_change_logs_out_every_other_session(client, alice):
    from django.test import Client

    other = Client()
    assert login(other, "alice", "alice-password-1", address="10.0.0.2").status_code == 302
    assert login(client, "alice", "alice-password-1").status_code == 302
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": "alice-password-1",
            "new_password1": "N3w-passw0rd-x",
            "new_password2": "N3w-passw0rd-x",
        },
    )
    assert response.status_code == 302
    assert other.get("/admin/").status_code == 302  # the other session is gone
    assert client.get("/admin/").status_code == 200  # the one that changed it stays in


def test_oversized_requests_are_refused_cleanly(admin_client):
    response = admin_client.post(
        "/admin/credentials/credential/add/?provider=openai",
        {"name": "x", "api_key": "k" * (3 * 1024 * 1024)},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/admin/credentials/credential/add/?provider=openai",
        "/models/add/",
        "/admin/login/",
    ],
)
def test_every_form_needs_its_csrf_token(alice, path):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(path, {"name": "x", "provider": "openai", "api_key": "sk-0123456789abcdefgh"})
    assert response.status_code == 403
    from credentials.models import Credential

    assert not Credential.objects.exists()


def test_test_connection_needs_its_csrf_token(alice):
    from django.test import Client

    from credentials.models import Credential

    credential = Credential.objects.create(name="c", provider="openai", secrets={"api_key": "k" * 20})
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(f"/admin/credentials/credential/{credential.pk}/test/").status_code == 403
