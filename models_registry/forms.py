"""The deployment change form: the same catalog fields and rules as credentials, inline."""

from __future__ import annotations

import uuid
from functools import cache

from django import forms
from django.core.exceptions import ValidationError

from credentials.catalog import Provider
from credentials.forms import add_service_errors, catalog_form_fields, submission_from
from credentials.models import Credential
from litecreds.jsonutil import BoundedJSONField
from litecreds.keyring import SecretUnavailable
from models_registry.models import ModelDeployment
from models_registry.services import deployment_prepare, inline_part


class DeploymentFormBase(forms.ModelForm):
    provider_spec: Provider
    extra_params = BoundedJSONField(
        label="Extra LiteLLM parameters",
        required=False,
        help_text='JSON object, e.g. {"rpm": 600}',
        initial=dict,
    )
    info = BoundedJSONField(
        label="model_info", required=False, help_text='e.g. {"mode": "chat"}', initial=dict
    )

    class Meta:
        model = ModelDeployment
        fields = ["model_name", "litellm_model", "credential", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.forged_credential = self.drop_malformed_credential()
        spec, instance = self.provider_spec, self.instance
        if "credential" in self.fields:
            self.fields["credential"].queryset = Credential.objects.filter(provider=spec.slug).defer(
                "secrets"
            )
            self.fields["credential"].help_text = "Leave empty to store credentials with this deployment."
        keys = {f.key for f in spec.fields}
        self.secrets_problem = None
        try:
            instance.secrets  # noqa: B018 - load now to learn whether it opens
        except SecretUnavailable as exc:
            self.secrets_problem = str(exc)
        self.initial.setdefault("extra_params", {k: v for k, v in instance.params.items() if k not in keys})
        self.initial.setdefault("info", instance.model_info)
        params, _, masked = inline_part(instance, spec) if not self.secrets_problem else ({}, {}, {})
        for key, value in params.items():
            self.initial.setdefault(key, value)
        for f in spec.secret_fields():
            if f.key in self.fields and masked.get(f.key):
                self.fields[f.key].widget.attrs["placeholder"] = (
                    f"{masked[f.key]} (stored; leave blank to keep)"
                )
                self.fields[f.key].help_text = f"Stored: {masked[f.key]}. Leave blank to keep it."

    def drop_malformed_credential(self) -> bool:
        """A credential value that is no UUID would crash the autocomplete widget: refuse it."""
        key = self.add_prefix("credential")
        if not self.is_bound or not self.data.get(key):
            return False
        try:
            uuid.UUID(str(self.data[key]))
        except ValueError:
            self.data = self.data.copy()
            self.data[key] = ""
            return True
        return False

    def clean(self):
        if self.forged_credential:
            self.add_error(
                "credential", "Select a valid choice. That choice is not one of the available choices."
            )
        data = super().clean()
        if self.errors:
            return data
        try:
            deployment_prepare(
                self.instance,
                model_name=data.get("model_name"),
                litellm_model=data.get("litellm_model"),
                is_active=bool(data.get("is_active")),
                credential=data.get("credential"),
                inline=submission_from(self.provider_spec, data, self.fields),
                extra_params=data.get("extra_params") or {},
                model_info=data.get("info") or {},
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        return data

    def _post_clean(self):
        pass  # deployment_prepare validated and applied everything


@cache
def deployment_form_class(spec: Provider) -> type[DeploymentFormBase]:
    attrs = {"provider_spec": spec, **catalog_form_fields(spec)}
    return type(f"{spec.slug.title().replace('_', '')}DeploymentForm", (DeploymentFormBase,), attrs)


class CreateCredentialForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name of the new credential")
