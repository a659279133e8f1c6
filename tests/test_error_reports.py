"""An exception inside a view that received a secret: the error page, the mail to the admins
and the log never show the secret, with DEBUG on and off."""

import io
import logging

import pytest
from django.core import mail

from credentials import services

pytestmark = pytest.mark.django_db

SECRET = "sk-crash-0123456789abcdefghijklmnop"
ADD = "/admin/credentials/credential/add/?provider=openai"


@pytest.fixture
def crashing_write(monkeypatch):
    def explode(prepared, *, actor=None):
        local_copy = dict(prepared.credential.secrets)  # noqa: F841 - a local that holds the secret
        raise RuntimeError("the database went away while saving")

    monkeypatch.setattr("credentials.admin.credential_write", explode)
    monkeypatch.setattr(services, "credential_write", explode)


@pytest.fixture
def stderr_log():
    """What the project's own stderr handler writes (with its filters)."""
    handler = next(h for h in logging.getLogger("django").handlers if isinstance(h, logging.StreamHandler))
    stream, handler.stream = handler.stream, io.StringIO()
    yield handler.stream
    handler.stream = stream


@pytest.mark.parametrize("debug", [True, False])
def test_a_crash_after_a_secret_was_posted_shows_it_nowhere(
    admin_client, crashing_write, stderr_log, captured_logs, settings, debug
):
    settings.DEBUG = debug
    settings.ADMINS = [("ops", "ops@example.com")]
    admin_client.raise_request_exception = False
    response = admin_client.post(
        ADD, {"name": "crash", "provider": "openai", "api_key": SECRET, "metadata": "{}"}
    )
    assert response.status_code == 500
    page = response.content.decode()
    assert SECRET not in page
    if debug:
        assert "the database went away while saving" in page  # the technical page, filtered
        assert "local_copy" in page
    else:
        assert "Traceback" not in page
        assert "Something went wrong" in page
        assert len(mail.outbox) == 1
        report = mail.outbox[0].body + "".join(str(a[0]) for a in mail.outbox[0].alternatives)
        assert "RuntimeError" in report
        assert SECRET not in report
    logged = stderr_log.getvalue()
    assert "Internal Server Error: /admin/credentials/credential/add/" in logged
    assert SECRET not in logged
    assert SECRET not in captured_logs()


def test_a_configured_key_that_reaches_a_log_line_is_blanked(stderr_log, settings):
    logging.getLogger("litecreds.test").error("oops, the key is %s", settings.LITECREDS_MASTER_KEY)
    assert settings.LITECREDS_MASTER_KEY not in stderr_log.getvalue()
    assert "oops, the key is ********************" in stderr_log.getvalue()
