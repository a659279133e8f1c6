"""Secrets never reach an error page, an error e-mail or a log line.

Two nets on top of ``sensitive_post_parameters``: an exception-reporter filter that hides any
frame variable whose text holds a secret, and a logging filter that blanks secrets out of every
record. "A secret" is any configured key (``SECRET_KEY``, the encryption keys, the database
password) and, for a request to a view marked with ``sensitive_post_parameters``, every value
it posted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.views.debug import SafeExceptionReporterFilter

MASK = "********************"
MIN_LENGTH = 6


def configured_secrets() -> list[str]:
    found = [getattr(settings, "SECRET_KEY", "") or ""]
    found += [getattr(settings, name, "") or "" for name in ("LITECREDS_SALT_KEY", "LITECREDS_MASTER_KEY")]
    found += list(getattr(settings, "LITECREDS_OLD_KEYS", None) or [])
    for database in getattr(settings, "DATABASES", {}).values():
        found.append(database.get("PASSWORD") or "")
    return found


def request_secrets(request) -> list[str]:
    if request is None or getattr(request, "sensitive_post_parameters", None) is None:
        return []
    try:
        return [value for values in request.POST.lists() for value in values[1]]
    except Exception:  # an unreadable body holds nothing to hide
        return []


def secrets_for(request=None) -> list[str]:
    values = {
        str(v) for v in [*configured_secrets(), *request_secrets(request)] if v and len(str(v)) >= MIN_LENGTH
    }
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, and any frame variable whose text holds a secret is hidden."""

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        secrets = secrets_for(request)
        cleaned = []
        for name, value in variables:
            try:
                text = repr(value)
            except Exception:  # a broken repr cannot leak either
                text = ""
            cleaned.append((name, MASK if any(s in text for s in secrets) else value))
        return cleaned

    def is_active(self, request) -> bool:
        return True  # Django's filter rests while DEBUG is on; secrets stay hidden then too


class RedactSecretsFilter(logging.Filter):
    """Blank configured and posted secrets out of a log record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = secrets_for(getattr(record, "request", None))
        message = record.getMessage()
        clean = redact(message, secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        return True
