"""``EncryptedJSONField``: any JSON value, sealed with AES-256-GCM and bound to its row.

Design, in short:

* Writes seal in ``pre_save``, where the row is known: the associated data is
  ``<app_label.model>|<field>|<primary key>``, so a ciphertext copied to another row or column
  fails to open. The model needs a primary key assigned before insert (a UUID default).
* Reads open in ``from_db_value``. That hook does not see the row, so the column is selected
  together with the row's primary key (``SealedCol.select_format``); every ORM read path -
  instances, ``values()``, ``values_list()``, deferred loading, ``select_related`` - goes
  through it.
* Writes that have no instance at hand (``QuerySet.update()``, ``bulk_update()``) are sealed
  row by row by ``SealedQuerySet``. A plain value that reaches the database any other way is
  refused, never written unsealed. Already-sealed text (``Sealed``, or ``loaddata`` of a dump)
  and SQL expressions pass through untouched.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.core import checks
from django.core.exceptions import FieldError
from django.db import models, transaction
from django.db.models.expressions import Col

from litecreds.keyring import CiphertextInvalid, get_keyring, looks_sealed

PK_SEPARATOR = "|"
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class Sealed(str):
    """Text that is already litecreds ciphertext; it is written to the database as is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Sealed(...)"


class SealedCol(Col):
    """A column of an encrypted field, selected together with its row's primary key."""

    def select_format(self, compiler, sql, params):
        connection = compiler.connection
        if connection.vendor not in ("sqlite", "postgresql"):
            raise FieldError(f"EncryptedJSONField does not support {connection.vendor}")
        pk_column = self.target.model._meta.pk.column
        pk_sql = f"{compiler.quote_name_unless_alias(self.alias)}.{connection.ops.quote_name(pk_column)}"
        return f"(CAST({pk_sql} AS TEXT) || '{PK_SEPARATOR}' || {sql})", params


class _Keep:
    """Form value meaning "keep what is stored"."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


class SecretJSONWidget(forms.Textarea):
    """A textarea that never renders a value: stored secrets do not reach HTML."""

    def format_value(self, value):
        return None


class SecretJSONFormField(forms.JSONField):
    """JSON input for a secret; left blank, the stored value is kept."""

    widget = SecretJSONWidget

    def __init__(self, **kwargs):
        kwargs["required"] = False
        kwargs.setdefault("help_text", "Stored encrypted and never shown. Leave blank to keep it.")
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return KEEP
        return super().to_python(value)

    def prepare_value(self, value):
        return ""

    def has_changed(self, initial, data):
        return data not in self.empty_values


class EncryptedJSONField(models.Field):
    """A JSON value stored only as authenticated ciphertext in a text column."""

    description = "JSON, encrypted at rest with AES-256-GCM and bound to its row"
    empty_strings_allowed = False

    def get_internal_type(self) -> str:
        return "TextField"

    # --- checks ---------------------------------------------------------------------------
    def check(self, **kwargs):
        errors = super().check(**kwargs)
        model = getattr(self, "model", None)
        if model is None or model._meta.abstract:
            return errors
        pk = model._meta.pk
        if not isinstance(pk, models.UUIDField) or not pk.has_default():
            errors.append(
                checks.Error(
                    "A model with an EncryptedJSONField needs a UUID primary key with a default "
                    "(assigned before insert), to bind ciphertext to its row.",
                    obj=self,
                    id="litecreds.E002",
                )
            )
        if not isinstance(model._default_manager.get_queryset(), SealedQuerySet):
            errors.append(
                checks.Error(
                    "A model with an EncryptedJSONField needs a default manager built on "
                    "litecreds.fields.SealedQuerySet, so update() and bulk_update() seal values.",
                    obj=self,
                    hint="objects = SealedQuerySet.as_manager()",
                    id="litecreds.E003",
                )
            )
        return errors

    # --- where a value lives ----------------------------------------------------------------
    def label_for(self, pk: Any) -> str:
        return f"{self.model._meta.label}.{self.name} of row {self.model._meta.pk.to_python(pk)}"

    def associated_data(self, pk: Any) -> bytes:
        """``<app_label.model>|<field>|<primary key>``: what binds a ciphertext to its place."""
        prefix = self.__dict__.get("_aad_prefix")
        if prefix is None:
            prefix = self.__dict__["_aad_prefix"] = f"{self.model._meta.label_lower}|{self.name}|".encode()
        return prefix + self.pk_text(pk).encode()

    def pk_text(self, pk: Any) -> str:
        """The row's primary key as canonical text: 32 hex digits for a UUID."""
        if isinstance(pk, uuid.UUID):
            return pk.hex
        if isinstance(pk, str) and len(pk) in (32, 36):
            return pk.replace("-", "").lower()  # SQLite gives the hex, PostgreSQL the dashed form
        if pk is None:
            raise ValueError(
                f"{self.model._meta.label}.{self.name}: the row needs a primary key before its "
                "secret can be sealed (use a UUID primary key with default=uuid.uuid4)"
            )
        value = self.model._meta.pk.to_python(pk)
        return value.hex if isinstance(value, uuid.UUID) else str(value)

    # --- sealing and opening ----------------------------------------------------------------
    def seal(self, value: Any, pk: Any) -> Sealed:
        try:
            text = _JSON.encode(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{self.model._meta.label}.{self.name}: the value is not JSON ({exc.__class__.__name__})"
            ) from None
        return Sealed(get_keyring().seal(text.encode("utf-8"), self.associated_data(pk)))

    def open(self, sealed: str, pk: Any) -> Any:
        plaintext = get_keyring().open(sealed, self.associated_data(pk), lambda: self.label_for(pk))
        return json.loads(plaintext)

    # --- ORM hooks -------------------------------------------------------------------------
    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value is None or isinstance(value, Sealed) or hasattr(value, "resolve_expression"):
            return value
        return self.seal(value, model_instance.pk)

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, Sealed):
            return str.__str__(value)  # a plain str: drivers adapt str subclasses slowly
        if isinstance(value, str) and looks_sealed(value):
            return value  # raw paths such as loaddata carry text sealed for this very row
        raise ValueError(
            f"{self.model._meta.label}.{self.name}: a plain value cannot be written without its "
            "row; use save(), create(), bulk_create(), or update()/bulk_update() on a SealedQuerySet"
        )

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        pk_text, separator, sealed = value.partition(PK_SEPARATOR)
        if not separator:
            raise CiphertextInvalid(
                f"cannot open {self.model._meta.label}.{self.name}: it was read without its row's "
                "primary key (raw SQL); read it through the ORM",
            )
        return self.open(sealed, pk_text)

    def to_python(self, value):
        return value

    def get_col(self, alias, output_field=None):
        if output_field is None:
            output_field = self
        if alias == self.model._meta.db_table and output_field is self:
            return self.cached_col
        return SealedCol(alias, self, output_field)

    @property
    def cached_col(self):
        col = self.__dict__.get("_sealed_cached_col")
        if col is None:
            col = self.__dict__["_sealed_cached_col"] = SealedCol(self.model._meta.db_table, self)
        return col

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted: it cannot be filtered with "
            f"'{lookup_name}' (only __isnull works on encrypted fields)"
        )

    def get_transform(self, lookup_name):
        return self.get_lookup(lookup_name)

    # --- serialization and forms -------------------------------------------------------------
    def value_from_object(self, obj):
        """The sealed text: dumpdata and model_to_dict never see the plaintext."""
        value = getattr(obj, self.attname)
        if value is None or isinstance(value, Sealed):
            return value
        return self.seal(value, obj.pk)

    def value_to_string(self, obj):
        return self.value_from_object(obj)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": SecretJSONFormField, **kwargs})

    def save_form_data(self, instance, data):
        if data is not KEEP:
            super().save_form_data(instance, data)


class SealedQuerySet(models.QuerySet):
    """A QuerySet whose ``update()`` and ``bulk_update()`` seal encrypted values per row."""

    def _encrypted(self, names) -> list[EncryptedJSONField]:
        fields = [self.model._meta.get_field(name) for name in names]
        return [f for f in fields if isinstance(f, EncryptedJSONField)]

    def update(self, **kwargs):
        plain = {
            f.name
            for f in self._encrypted(kwargs)
            if not hasattr(kwargs[f.name], "resolve_expression") and not isinstance(kwargs[f.name], Sealed)
        }
        if not plain:
            return super().update(**kwargs)
        if self.query.is_sliced:
            raise TypeError("Cannot update a query once a slice has been taken.")
        base = SealedQuerySet(self.model, using=self.db)
        with transaction.atomic(using=self.db, savepoint=False):
            pks = list(self.values_list("pk", flat=True))
            rest = {name: value for name, value in kwargs.items() if name not in plain}
            rows = []
            for pk in pks:
                row = self.model(pk=pk)
                for name in plain:
                    setattr(row, self.model._meta.get_field(name).attname, kwargs[name])
                rows.append(row)
            base.bulk_update(rows, sorted(plain), batch_size=500)
            for start in range(0, len(pks), 500):
                if rest:
                    base.filter(pk__in=pks[start : start + 500]).update(**rest)
        return len(pks)

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        encrypted = self._encrypted(fields)
        originals = []
        for obj in objs:
            for field in encrypted:
                value = getattr(obj, field.attname)
                if value is None or isinstance(value, Sealed) or hasattr(value, "resolve_expression"):
                    continue
                originals.append((obj, field.attname, value))
                setattr(obj, field.attname, field.seal(value, obj.pk))
        try:
            return super().bulk_update(objs, fields, batch_size=batch_size)
        finally:
            for obj, attname, value in originals:
                setattr(obj, attname, value)

    bulk_update.alters_data = True
