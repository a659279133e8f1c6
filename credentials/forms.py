"""Forms that edit a credential: one class per provider, fields from the catalog.

The rules live in ``credentials.values`` and ``credentials.services``; a form only maps its
inputs to a submission and the service's errors back to its fields.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from credentials.catalog import JSON_DOCUMENT, SECRET, SELECT, Field, Provider, provider_choices
from credentials.models import Credential
from credentials.services import Prepared, conflict_message, credential_prepare, stored_secrets, version_of
from credentials.values import CLEAR, MAX_DOCUMENT_BYTES
from litecreds.jsonutil import BoundedJSONField

CLEAR_SUFFIX, FILE_SUFFIX = "__clear", "__file"


def show_when_attrs(f: Field) -> dict[str, str]:
    return {"data-show-when": " ".join(f.show_when)} if f.show_when else {}


def help_for(f: Field) -> str:
    parts = [f.help] if f.help else []
    if f.required:
        parts.append("Required.")
    if f.show_when:
        parts.append("Only for: " + ", ".join(f.show_when) + ".")
    return " ".join(parts)


def catalog_form_fields(spec: Provider) -> dict[str, forms.Field]:
    """The form fields for a provider's catalog fields (all optional: the service decides)."""
    fields: dict[str, forms.Field] = {}
    for f in spec.fields:
        attrs = {"placeholder": f.placeholder, **show_when_attrs(f)}
        if f.kind == SELECT:
            fields[f.key] = forms.ChoiceField(
                label=f.label, choices=f.choices, initial=f.default, required=False, help_text=help_for(f)
            )
            fields[f.key].widget.attrs.update(show_when_attrs(f))
        elif f.kind == SECRET:
            attrs["autocomplete"] = "new-password"
            fields[f.key] = forms.CharField(
                label=f.label,
                required=False,
                strip=False,
                help_text=help_for(f),
                widget=forms.PasswordInput(render_value=False, attrs=attrs),
            )
            if not f.required:
                fields[f.key + CLEAR_SUFFIX] = forms.BooleanField(
                    label=f"Clear the stored {f.label.lower()}",
                    required=False,
                    widget=forms.CheckboxInput(attrs=show_when_attrs(f)),
                )
        elif f.kind == JSON_DOCUMENT:
            fields[f.key] = forms.CharField(
                label=f.label,
                required=False,
                strip=False,
                help_text=help_for(f),
                widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", **attrs}),
            )
            fields[f.key + FILE_SUFFIX] = forms.FileField(
                label=f"{f.label} file",
                required=False,
                help_text="Or upload the key file.",
                widget=forms.ClearableFileInput(
                    attrs={"accept": ".json,application/json", **show_when_attrs(f)}
                ),
            )
        else:
            fields[f.key] = forms.CharField(
                label=f.label,
                required=False,
                initial=f.default,
                help_text=help_for(f),
                widget=forms.TextInput(attrs=attrs),
            )
    return fields


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's errors on the form: on the field they name, or on the form itself."""
    for key, messages in exc.message_dict.items():
        for message in messages:
            form.add_error(key if key in form.fields else None, message)


def submission_from(spec: Provider, data: dict[str, Any], fields) -> dict[str, Any]:
    """A form's cleaned data as a submission for ``credentials.values.clean_values``."""
    submitted: dict[str, Any] = {}
    for f in spec.fields:
        if f.key not in fields:
            continue
        value = data.get(f.key)
        if f.kind == JSON_DOCUMENT and data.get(f.key + FILE_SUFFIX):
            upload = data[f.key + FILE_SUFFIX]
            if upload.size > MAX_DOCUMENT_BYTES:
                limit = MAX_DOCUMENT_BYTES // 1024
                raise ValidationError({f.key: f"{f.label} ({f.key}): the file is larger than {limit} KB"})
            value = upload.read()
        if f.secret and data.get(f.key + CLEAR_SUFFIX):
            value = CLEAR
        submitted[f.key] = value
    return submitted


class CredentialFormBase(forms.ModelForm):
    """A credential's form; ``credential_form_class`` adds the provider's fields."""

    provider_spec: Provider
    provider = forms.ChoiceField(choices=provider_choices)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    opened_version = forms.CharField(required=False, widget=forms.HiddenInput)
    metadata = BoundedJSONField(
        label="Metadata", required=False, help_text="Free metadata as a JSON object.", initial=dict
    )

    class Meta:
        model = Credential
        fields = ["name", "provider"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared: Prepared | None = None
        existing = not self.instance._state.adding
        self.secrets_problem = stored_secrets(self.instance).problem if existing else None
        if existing:
            self.fields.pop("provider", None)  # fixed once saved; shown read-only
        if "provider" in self.fields:
            self.fields["provider"].initial = self.provider_spec.slug
            self.fields["provider"].widget.attrs["data-swap"] = "1"
        if existing:
            self.initial.setdefault("opened_version", version_of(self.instance))
            self.initial.setdefault("description", self.instance.info.get("description", ""))
            self.initial.setdefault("metadata", self.instance.info.get("metadata", {}))
            for key, value in self.instance.params.items():
                self.initial.setdefault(key, value)
        for f in self.provider_spec.secret_fields():
            if f.key not in self.fields:
                continue
            preview = self.instance.masked.get(f.key) if existing and not self.secrets_problem else None
            widget = self.fields[f.key].widget
            if preview:
                widget.attrs["placeholder"] = f"{preview} (stored; leave blank to keep)"
                self.fields[f.key].help_text = f"Stored: {preview}. Leave blank to keep it. " + (
                    self.fields[f.key].help_text
                )

    def is_multipart(self) -> bool:
        return True  # another provider, swapped in place, may need an upload

    def submission(self) -> dict[str, Any]:
        return submission_from(self.provider_spec, self.cleaned_data, self.fields)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        existing = not self.instance._state.adding
        if existing and data.get("opened_version") != version_of(self.instance):
            raise ValidationError(conflict_message(self.instance))
        try:
            self.prepared = credential_prepare(
                credential=self.instance,
                name=data.get("name"),
                provider=data.get("provider") or self.instance.provider or self.provider_spec.slug,
                submitted=self.submission(),
                description=data.get("description", ""),
                metadata=data.get("metadata") or {},
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
            return data
        if existing:
            self.prepared.opened_version = data.get("opened_version")
        return data

    def _post_clean(self):
        # The service validated everything, uniqueness included; Django's model validation
        # would only repeat it with a vaguer message.
        pass


@cache
def credential_form_class(spec: Provider) -> type[CredentialFormBase]:
    attrs = {"provider_spec": spec, **catalog_form_fields(spec)}
    return type(f"{spec.slug.title().replace('_', '')}CredentialForm", (CredentialFormBase,), attrs)


class ProviderChoiceForm(forms.Form):
    provider = forms.ChoiceField(choices=provider_choices, label="Provider")
    provider.widget.attrs["data-autosubmit"] = "1"
