"""The rules for a credential's values, shared by the admin, the wizard, the commands and import.

``clean_values`` turns what a user submitted into the secrets and the plain parameters to
store, or raises a ``ValidationError`` whose keys are field keys and whose messages name the
field. It never changes anything stored.

What a submission means, per field:

* plain fields: the value wanted ("" = none). A key left out keeps the stored value, or takes
  the catalog's default on a new credential.
* secret fields: a new value. Left out, blank, or the masked preview itself keeps the stored
  secret; ``CLEAR`` removes an optional one.
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from credentials.catalog import AUTH_METHOD, JSON_DOCUMENT, SELECT, URL, Field, Provider

MAX_SECRET_CHARS = 8 * 1024
MAX_TEXT_CHARS = 2048
MAX_DOCUMENT_BYTES = 64 * 1024
MASK = "••••"
SERVICE_ACCOUNT_KEYS = ("project_id", "private_key", "client_email", "token_uri")


class _Clear:
    def __repr__(self) -> str:
        return "CLEAR"


CLEAR = _Clear()


@dataclass
class Cleaned:
    secrets: dict[str, Any] = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)


def named(f: Field, problem: str) -> str:
    return f"{f.label} ({f.key}): {problem}"


def has_control_chars(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text)


SECRET_NAME_PARTS = ("key", "secret", "token", "password", "credentials")


def looks_secret(name: str) -> bool:
    """A parameter whose name says it is secret is always sealed, whatever the catalog says."""
    lowered = name.lower()
    return any(part in lowered for part in SECRET_NAME_PARTS) and lowered != AUTH_METHOD


def mask(value: Any) -> str:
    """A preview that shows at most the last 4 characters, and only of a long secret."""
    if isinstance(value, dict):
        value = str(value.get("private_key_id", ""))
    text = str(value)
    return f"{MASK}{text[-4:]}" if len(text) >= 16 else MASK


def masks(secrets: Mapping[str, Any]) -> dict[str, str]:
    return {key: mask(value) for key, value in secrets.items()}


# --- single values ------------------------------------------------------------------------------


@sensitive_variables()
def clean_token(f: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(named(f, "must be text"))
    token = value.strip()
    if len(token) > MAX_SECRET_CHARS:
        raise ValidationError(
            named(f, f"is {len(token):,} characters long; the limit is {MAX_SECRET_CHARS:,}")
        )
    if any(ch.isspace() for ch in token):
        raise ValidationError(named(f, "contains whitespace inside; paste the token alone"))
    if has_control_chars(token):
        raise ValidationError(named(f, "contains control characters"))
    if not token.isascii():
        raise ValidationError(named(f, "contains non-ASCII characters, which no provider accepts in a token"))
    return token


def clean_text(f: Field, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationError(named(f, f"is longer than {MAX_TEXT_CHARS} characters"))
    if has_control_chars(text):
        raise ValidationError(named(f, "contains control characters"))
    if text and f.kind == URL:
        check_url(f, text)
    if text and f.kind == SELECT and text not in {c[0] for c in f.choices}:
        allowed = ", ".join(c[0] for c in f.choices)
        raise ValidationError(named(f, f"must be one of {allowed} (got {text[:40]!r})"))
    return text


def check_url(f: Field, text: str) -> None:
    if any(ch.isspace() for ch in text):
        raise ValidationError(named(f, "must not contain spaces"))
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationError(named(f, f"is not a valid URL ({text[:80]!r})")) from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError(named(f, f"must start with http:// or https:// (got {text[:80]!r})"))
    if not parts.hostname:
        raise ValidationError(named(f, f"has no host name ({text[:80]!r})"))


def read_document(f: Field, value: Any) -> Any:
    """The JSON document in ``value``: a dict, JSON text, base64 of JSON text, or file bytes."""
    if isinstance(value, dict):
        return value
    if isinstance(value, bytes):
        if not value.strip():
            raise ValidationError(named(f, "the uploaded file is empty"))
        if len(value) > MAX_DOCUMENT_BYTES:
            raise ValidationError(
                named(f, f"is larger than {MAX_DOCUMENT_BYTES // 1024} KB; is this the key file?")
            )
        try:
            value = value.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(named(f, "is not UTF-8 text (a binary file?)")) from None
    if not isinstance(value, str):
        raise ValidationError(named(f, "must be a JSON document"))
    text = value.strip()
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            named(f, f"is larger than {MAX_DOCUMENT_BYTES // 1024} KB; is this the key file?")
        )
    if "\x00" in text:
        raise ValidationError(named(f, "contains NUL bytes; it is not a JSON document"))
    if not text.startswith(("{", "[", '"')):
        try:
            text = base64.b64decode("".join(text.split()), validate=True).decode("utf-8-sig").strip()
        except (binascii.Error, ValueError):
            raise ValidationError(named(f, "is not JSON (nor base64-encoded JSON)")) from None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        problem = getattr(exc, "msg", "nested too deeply")
        raise ValidationError(named(f, f"is not valid JSON ({problem})")) from None


def clean_service_account(f: Field, value: Any) -> dict:
    document = read_document(f, value)
    if not isinstance(document, dict):
        raise ValidationError(named(f, f"must be a JSON object, not {type(document).__name__}"))
    kind = document.get("type")
    if kind != "service_account":
        raise ValidationError(named(f, f'"type" must be "service_account" (got {str(kind)[:40]!r})'))
    missing = [
        key for key in SERVICE_ACCOUNT_KEYS if not isinstance(document.get(key), str) or not document[key]
    ]
    if missing:
        raise ValidationError(named(f, f"is missing {', '.join(missing)}"))
    try:
        load_pem_private_key(document["private_key"].encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise ValidationError(named(f, "private_key is not a PEM private key")) from None
    if "@" not in document["client_email"]:
        raise ValidationError(named(f, "client_email is not an e-mail address"))
    if urlsplit(document["token_uri"]).scheme != "https":
        raise ValidationError(named(f, "token_uri must be an https:// URL"))
    return document


def clean_secret(f: Field, value: Any) -> Any:
    return clean_service_account(f, value) if f.kind == JSON_DOCUMENT else clean_token(f, value)


def is_keep(value: Any, preview: str | None) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == "" or (preview is not None and value.strip() == preview)
    return isinstance(value, bytes) and value == b""


# --- a whole submission ----------------------------------------------------------------------------


@sensitive_variables()
def clean_values(
    provider: Provider,
    submitted: Mapping[str, Any],
    *,
    stored_secrets: Mapping[str, Any] | None = None,
    stored_params: Mapping[str, Any] | None = None,
    masked: Mapping[str, str] | None = None,
    existing: bool = False,
) -> Cleaned:
    """Validate ``submitted`` for ``provider`` against what is stored; see the module docstring."""
    stored_secrets, stored_params, masked = stored_secrets or {}, stored_params or {}, masked or {}
    errors: dict[str, list[str]] = {}
    for key in submitted:
        if provider.field(key) is None:
            errors.setdefault(key, []).append(f"{provider.label} has no field '{key}'")

    params = clean_params(provider, submitted, stored_params, existing, errors)
    auth_method = params.get(AUTH_METHOD)
    secrets, entered = clean_secrets(provider, submitted, stored_secrets, masked, auth_method, errors)
    fill_project_from_document(provider, params, secrets, errors)
    check_required(provider, auth_method, params, secrets, errors)
    if existing:
        check_redirect(provider, auth_method, params, stored_params, stored_secrets, entered, errors)
    if errors:
        raise ValidationError(errors)
    changed = sorted(
        {k for k in set(params) | set(stored_params) if params.get(k) != stored_params.get(k)}
        | {k for k in set(secrets) | set(stored_secrets) if secrets.get(k) != stored_secrets.get(k)}
    )
    return Cleaned(secrets=secrets, params=params, changed=changed)


def clean_params(provider, submitted, stored_params, existing, errors) -> dict[str, Any]:
    params: dict[str, Any] = {}
    auth = provider.auth_field
    ordered = ([auth] if auth else []) + [f for f in provider.fields if not f.secret and f is not auth]
    for f in ordered:
        if f.key in submitted:
            raw = submitted[f.key]
        elif existing:
            raw = stored_params.get(f.key, "")
        else:
            raw = f.default
        if f is auth and not raw:
            raw = stored_params.get(f.key) or provider.default_auth_method()
        try:
            value = clean_text(f, raw)
        except ValidationError as exc:
            errors.setdefault(f.key, []).extend(exc.messages)
            continue
        if f is not auth and not f.applies(params.get(AUTH_METHOD)):
            continue
        if value:
            params[f.key] = value
    return params


@sensitive_variables()
def clean_secrets(provider, submitted, stored_secrets, masked, auth_method, errors):
    secrets: dict[str, Any] = {}
    entered: set[str] = set()
    for f in provider.secret_fields():
        if not f.applies(auth_method):
            continue
        value = submitted.get(f.key)
        if value is CLEAR:
            if f.required:
                errors.setdefault(f.key, []).append(named(f, "is required and cannot be cleared"))
            continue
        if is_keep(value, masked.get(f.key)):
            if f.key in stored_secrets:
                secrets[f.key] = stored_secrets[f.key]
            continue
        try:
            secrets[f.key] = clean_secret(f, value)
            entered.add(f.key)
        except ValidationError as exc:
            errors.setdefault(f.key, []).extend(exc.messages)
    return secrets, entered


def fill_project_from_document(provider, params, secrets, errors) -> None:
    document = secrets.get("vertex_credentials")
    if provider.field("vertex_project") and not params.get("vertex_project") and isinstance(document, dict):
        params["vertex_project"] = document["project_id"]


def check_required(provider, auth_method, params, secrets, errors) -> None:
    for f in provider.active_fields(auth_method):
        if f.required and f.key not in errors and not (secrets if f.secret else params).get(f.key):
            errors.setdefault(f.key, []).append(named(f, "is required"))


def check_redirect(provider, auth_method, params, stored_params, stored_secrets, entered, errors) -> None:
    """A stored secret is never sent to a new address: moving it needs the secret again."""
    for route in (f for f in provider.fields if f.routes_secret):
        if params.get(route.key, "") == stored_params.get(route.key, ""):
            continue
        for f in provider.secret_fields():
            if f.applies(auth_method) and f.key in stored_secrets and f.key not in entered:
                errors.setdefault(f.key, []).append(
                    named(
                        f,
                        f"enter it again: {route.label} changed, and a stored secret "
                        "is never sent to a new address",
                    )
                )


def clean_name(name: Any) -> str:
    text = "" if name is None else str(name).strip()
    if not text:
        raise ValidationError("Name: is required")
    if len(text) > 100:
        raise ValidationError(f"Name: is {len(text)} characters long; the limit is 100")
    if has_control_chars(text):
        raise ValidationError("Name: contains control characters")
    return text
