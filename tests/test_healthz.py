"""GET /healthz: 200 when the database answers, 503 when it does not; no login, no secrets."""

import json

import pytest
from django.conf import settings

from tests.helpers import STRONG_KEY, clean_env, run_python


@pytest.mark.django_db
def test_healthz_says_the_database_is_reachable_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_shows_no_secret(client):
    body = client.get("/healthz").content.decode()
    for secret in (settings.SECRET_KEY, settings.LITECREDS_MASTER_KEY):
        assert secret not in body


@pytest.mark.django_db
def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


PROBE = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://postgres@127.0.0.1:1/unreachable",  # nothing listens on port 1
        "sqlite:////nonexistent-folder/for/litecreds/db.sqlite3",
    ],
)
def test_healthz_answers_503_when_the_database_is_unreachable(database_url):
    env = clean_env(
        SECRET_KEY="s" * 50,
        LITECREDS_MASTER_KEY=STRONG_KEY,
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="litecreds.settings",
    )
    result = run_python("-c", PROBE, env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"status": 503, "body": {"status": "error", "database": "unreachable"}}
