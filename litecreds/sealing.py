"""Services over every encrypted column: status by key id, rotation, verification.

None of these decrypt to count: the key id is the readable prefix of the stored text.
Rotation re-seals the stored bytes without parsing them, one transaction per batch, and
writes each row with a compare-and-swap on its old text, so a value edited meanwhile is
never overwritten with a stale one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import DatabaseError, connections, router, transaction
from django.db.models import CharField, Count, TextField
from django.db.models.functions import Cast, Substr

from litecreds.fields import EncryptedJSONField
from litecreds.keyring import PREFIX_LENGTH, VERSION, SecretUnavailable, get_keyring

UNREADABLE = "invalid"  # bucket for stored text that is not litecreds ciphertext


@dataclass
class ColumnStatus:
    label: str
    table_missing: bool = False
    by_key: dict[str, int] = field(default_factory=dict)

    def count_not_on(self, key_id: str | None) -> int:
        return sum(n for kid, n in self.by_key.items() if kid != key_id)

    def count_on_unknown(self, known: set[str]) -> int:
        return sum(n for kid, n in self.by_key.items() if kid not in known)


@dataclass
class Failure:
    label: str
    pk: str
    reason: str


@dataclass
class RotationReport:
    resealed: int = 0
    already_current: int = 0
    changed_meanwhile: int = 0
    failures: list[Failure] = field(default_factory=list)


def encrypted_columns() -> list[tuple[type, EncryptedJSONField]]:
    """Every (model, field) pair of installed, concrete models with an encrypted field."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.local_fields:
            if isinstance(f, EncryptedJSONField):
                found.append((model, f))
    return found


def column_label(model, f) -> str:
    return f"{model._meta.label}.{f.name}"


def _table_exists(model) -> bool:
    connection = connections[router.db_for_read(model)]
    return model._meta.db_table in connection.introspection.table_names()


def _prefix(f) -> Substr:
    return Substr(f.name, 1, PREFIX_LENGTH, output_field=CharField())


def key_id_of_prefix(prefix: str) -> str:
    parts = prefix.split(":")
    if len(parts) == 3 and parts[0] == VERSION and parts[2] == "":
        return parts[1]
    return UNREADABLE


def column_status(model, f) -> ColumnStatus:
    status = ColumnStatus(label=column_label(model, f))
    if not _table_exists(model):
        status.table_missing = True
        return status
    rows = (
        model._base_manager.filter(**{f"{f.name}__isnull": False})
        .annotate(_lc_prefix=_prefix(f))
        .values("_lc_prefix")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        kid = key_id_of_prefix(row["_lc_prefix"])
        status.by_key[kid] = status.by_key.get(kid, 0) + row["n"]
    return status


def all_status() -> list[ColumnStatus]:
    return [column_status(model, f) for model, f in encrypted_columns()]


def _raw_batches(
    model, f, batch_size: int, exclude_prefix: str | None = None, lock: bool = False
) -> Iterator[list]:
    """Yield lists of (pk, stored text) in primary-key order, each inside its own transaction."""
    qs = model._base_manager.filter(**{f"{f.name}__isnull": False})
    if exclude_prefix:
        qs = qs.annotate(_lc_prefix=_prefix(f)).exclude(_lc_prefix=exclude_prefix)
    qs = qs.annotate(_lc_raw=Cast(f.name, TextField())).order_by("pk")
    using = router.db_for_write(model)
    last_pk = None
    while True:
        with transaction.atomic(using=using):
            page = qs if last_pk is None else qs.filter(pk__gt=last_pk)
            if lock:
                page = page.select_for_update()
            batch = list(page.values_list("pk", "_lc_raw")[:batch_size])
            if not batch:
                return
            last_pk = batch[-1][0]
            yield batch


def _write_batch(model, f, rows: list[tuple]) -> int:
    """Compare-and-swap each (new text, pk, old text); return how many rows changed."""
    using = router.db_for_write(model)
    connection = connections[using]
    qn = connection.ops.quote_name
    pk = model._meta.pk
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET {qn(f.column)} = %s "
        f"WHERE {qn(pk.column)} = %s AND {qn(f.column)} = %s"
    )
    params = [(new, pk.get_db_prep_value(key, connection), old) for new, key, old in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        changed = cursor.rowcount
    return changed if changed is not None and changed >= 0 else len(rows)


ProgressFn = Callable[[str, int, int], None]


def rotate(batch_size: int = 1000, progress: ProgressFn | None = None) -> RotationReport:
    """Re-seal every encrypted value that is not on the primary key onto the primary key."""
    keyring = get_keyring()
    primary = keyring.require_primary()
    current = f"{VERSION}:{primary.key_id}:"
    report = RotationReport()
    for model, f in encrypted_columns():
        if not _table_exists(model):
            continue
        label = column_label(model, f)
        status = column_status(model, f)
        report.already_current += status.by_key.get(primary.key_id, 0)
        total, done = status.count_not_on(primary.key_id), 0
        for batch in _raw_batches(model, f, batch_size, exclude_prefix=current, lock=True):
            rows = []
            for pk, old in batch:
                aad = f.associated_data(pk)
                try:
                    plaintext = keyring.open(old, aad, functools.partial(f.label_for, pk))
                except SecretUnavailable as exc:
                    report.failures.append(Failure(label, str(pk), str(exc)))
                    continue
                rows.append((keyring.seal(plaintext, aad), pk, old))
            changed = _write_batch(model, f, rows) if rows else 0
            report.resealed += changed
            report.changed_meanwhile += len(rows) - changed
            done += len(batch)
            if progress:
                progress(label, done, total)
    return report


def verify(batch_size: int = 1000, progress: ProgressFn | None = None) -> tuple[int, list[Failure]]:
    """Open every encrypted value; return (values opened, failures)."""
    keyring = get_keyring()
    opened, failures = 0, []
    for model, f in encrypted_columns():
        if not _table_exists(model):
            continue
        label, done = column_label(model, f), 0
        for batch in _raw_batches(model, f, batch_size):
            for pk, stored in batch:
                try:
                    keyring.open(stored, f.associated_data(pk), functools.partial(f.label_for, pk))
                    opened += 1
                except SecretUnavailable as exc:
                    failures.append(Failure(label, str(pk), str(exc)))
            done += len(batch)
            if progress:
                progress(label, done, done)
    return opened, failures


def safe_status() -> list[ColumnStatus] | None:
    """Status for system checks: None when the database cannot be asked."""
    try:
        return all_status()
    except DatabaseError:
        return None
