"""Writes to credentials: the one path that the admin, the wizard and the commands all take."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.views.decorators.debug import sensitive_variables

from credentials.catalog import UnknownProvider, get_provider
from credentials.models import Credential
from credentials.values import Cleaned, clean_name, clean_values, masks
from litecreds import audit
from litecreds.keyring import SecretUnavailable

MAX_DESCRIPTION = 1000


@dataclass
class StoredSecrets:
    values: dict[str, Any] = field(repr=False)
    problem: str | None = None  # why the stored secrets cannot be opened, if they cannot


def stored_secrets(credential: Credential | None) -> StoredSecrets:
    """The stored secrets, or an empty set and the reason when they cannot be opened."""
    if credential is None or credential._state.adding:
        return StoredSecrets({})
    try:
        return StoredSecrets(dict(credential.secrets or {}))
    except SecretUnavailable as exc:
        return StoredSecrets({}, problem=str(exc))


@dataclass
class Prepared:
    credential: Credential
    cleaned: Cleaned
    changed: list[str] = field(default_factory=list)
    opened_version: str | None = None  # the updated_at the editor saw


class ChangedSinceOpened(ValidationError):
    """Someone saved the credential after this editor opened it; nothing was written."""


def version_of(credential: Credential) -> str:
    return credential.updated_at.isoformat() if credential.updated_at else ""


def conflict_message(current: Credential) -> str:
    who = current.updated_by.get_username() if current.updated_by_id else "someone"
    when = f"{current.updated_at:%Y-%m-%d %H:%M:%S} UTC"
    return (
        f"This credential was changed since you opened it (by {who} at {when}). "
        "Nothing was saved: reload it to see the changes, then make yours again."
    )


@sensitive_variables()
def credential_prepare(
    *,
    credential: Credential | None,
    name: Any,
    provider: str,
    submitted: Mapping[str, Any],
    description: Any = None,
    metadata: Any = None,
) -> Prepared:
    """Validate a create (``credential`` None or unsaved) or an update; change nothing stored.

    Raises ``ValidationError`` with a message per field key (``name`` and ``provider`` too).
    """
    errors: dict[str, list[str]] = {}
    existing = credential is not None and not credential._state.adding
    try:
        spec = get_provider(provider)
    except UnknownProvider as exc:
        raise ValidationError({"provider": [f"Provider: {exc}"]}) from None
    if existing and credential.provider != provider:
        errors["provider"] = ["Provider: cannot change on a saved credential; create a new one"]
    try:
        clean = clean_name(name)
        clash = Credential.objects.filter(name__iexact=clean)
        if existing:
            clash = clash.exclude(pk=credential.pk)
        if clash.exists():
            errors["name"] = [f"Name: a credential named {clean!r} exists already (names ignore case)"]
    except ValidationError as exc:
        errors["name"] = exc.messages
    info = dict(credential.info) if existing else {}
    if description is not None:
        text = str(description).strip()
        if len(text) > MAX_DESCRIPTION:
            errors["description"] = [f"Description: longer than {MAX_DESCRIPTION} characters"]
        info["description"] = text
    if metadata is not None:
        if not isinstance(metadata, dict):
            errors["metadata"] = ["Metadata: must be a JSON object"]
        else:
            info["metadata"] = metadata
    stored = stored_secrets(credential)
    try:
        cleaned = clean_values(
            spec,
            submitted,
            stored_secrets=stored.values,
            stored_params=credential.params if existing else {},
            masked=credential.masked if existing and not stored.problem else {},
            existing=existing,
        )
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
        cleaned = None
    if errors:
        raise ValidationError(errors)
    target = credential if credential is not None else Credential()
    if not existing:
        target.provider = provider
    changed = list(cleaned.changed)
    if existing and target.name != clean:
        changed.append("name")
    if existing and info != target.info:
        changed.append("info")
    opened = version_of(credential) if existing else None
    target.name, target.info = clean, info
    target.params, target.secrets, target.masked = cleaned.params, cleaned.secrets, masks(cleaned.secrets)
    return Prepared(credential=target, cleaned=cleaned, changed=sorted(set(changed)), opened_version=opened)


def user_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def credential_write(prepared: Prepared, *, actor=None) -> Credential:
    credential = prepared.credential
    adding = credential._state.adding
    if not adding:
        current = (
            Credential.objects.select_for_update(of=("self",))
            .defer("secrets")
            .select_related("updated_by")
            .get(pk=credential.pk)
        )
        if prepared.opened_version is not None and version_of(current) != prepared.opened_version:
            raise ChangedSinceOpened(conflict_message(current))
    if adding:
        credential.created_by = user_or_none(actor)
    credential.updated_by = user_or_none(actor)
    credential.save()
    fields = ["name", "provider", *prepared.changed] if adding else prepared.changed
    audit.record("create" if adding else "update", credential, actor=actor, fields=fields)
    return credential


def credential_delete(credential: Credential, *, reassign_to: Credential | None = None, actor=None) -> int:
    """Delete a credential; refused while deployments use it, unless they move to another."""
    try:
        with transaction.atomic():
            return _delete(credential, reassign_to, actor)
    except ValidationError as exc:
        audit.record("delete", credential, actor=actor, outcome="refused", message="; ".join(exc.messages))
        raise


def _delete(credential: Credential, reassign_to: Credential | None, actor) -> int:
    users = list(credential.deployments.select_for_update().order_by("model_name"))
    if users and reassign_to is None:
        names = ", ".join(str(d) for d in users[:20]) + (" ..." if len(users) > 20 else "")
        raise ValidationError(f"{credential.name!r} is used by {len(users)} deployment(s): {names}")
    if reassign_to is not None:
        if reassign_to.pk == credential.pk or reassign_to.provider != credential.provider:
            raise ValidationError(
                f"Reassign to another {credential.provider} credential, not {reassign_to.name!r}"
            )
        for deployment in users:
            deployment.credential = reassign_to
            deployment.save(update_fields=["credential", "updated_at"])
            audit.record("update", deployment, actor=actor, fields=["credential"])
    audit.record("delete", credential, actor=actor, message=f"reassigned {len(users)}" if users else "")
    credential.delete()
    return len(users)


def credential_save(*, credential: Credential | None = None, actor=None, **fields) -> Credential:
    """Validate and write in one call (commands, import)."""
    return credential_write(credential_prepare(credential=credential, **fields), actor=actor)


def with_usage(queryset):
    """Annotate how many deployments use each credential (one query, no decryption)."""
    return queryset.defer("secrets").annotate(deployment_count=Count("deployments"))
