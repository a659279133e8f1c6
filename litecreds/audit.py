"""The audit trail: one row per create, update, delete, rotation, import, export and test."""

from __future__ import annotations

import contextlib
import contextvars
import getpass
from collections.abc import Iterable, Iterator
from typing import Any

_source = contextvars.ContextVar("litecreds_audit_source", default="admin")


@contextlib.contextmanager
def source(name: str) -> Iterator[None]:
    """Mark the writes inside as coming from ``name`` (admin, wizard, command)."""
    token = _source.set(name)
    try:
        yield
    finally:
        _source.reset(token)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor_fields(actor: Any) -> tuple[str, Any]:
    if actor is None:
        return os_user(), None
    if isinstance(actor, str):
        return actor, None
    return actor.get_username(), actor if getattr(actor, "pk", None) else None


def record(
    action: str,
    obj: Any = None,
    *,
    actor: Any = None,
    fields: Iterable[str] = (),
    outcome: str = "ok",
    message: str = "",
    object_type: str = "",
    object_repr: str = "",
) -> None:
    from litecreds.models import AuditEvent

    name, user = actor_fields(actor)
    AuditEvent.objects.create(
        actor=name[:150],
        actor_user=user,
        source=_source.get(),
        action=action,
        object_type=object_type or (obj._meta.label if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        fields=sorted(set(fields)),
        outcome=outcome,
        message=message[:500],
    )
