"""The Add Model wizard at /models/add/: provider, models, credentials, review.

Built on django-formtools' SessionWizardView hooks. What the wizard keeps between steps is
sealed with the keyring before it reaches the session (``SealedSessionStorage``), uploads are
read into that sealed data rather than written to disk, and finishing writes everything in
one transaction through ``models_registry.services``.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from formtools.wizard.storage.session import SessionStorage
from formtools.wizard.views import SessionWizardView

from credentials.catalog import BY_SLUG, Provider, provider_choices
from credentials.forms import CLEAR_SUFFIX, add_service_errors, catalog_form_fields, submission_from
from credentials.models import Credential
from credentials.probe import probe_values
from credentials.values import clean_name, clean_values, mask
from litecreds import audit
from litecreds.jsonutil import BoundedJSONField
from litecreds.keyring import SecretUnavailable, get_keyring
from models_registry.models import MODES
from models_registry.services import (
    ModelLine,
    clean_model_info,
    clean_provider_model,
    clean_public_name,
    credential_values,
    deployments_create,
    split_extra_params,
)

MAX_MODELS = 100


class SealedSessionStorage(SessionStorage):
    """formtools' session storage, with every step's data sealed by the keyring."""

    def _aad(self, step: str) -> bytes:
        return f"litecreds wizard|{self.prefix}|{step}".encode()

    def set_step_data(self, step, cleaned_data):
        if isinstance(cleaned_data, MultiValueDict):
            cleaned_data = dict(cleaned_data.lists())
        sealed = get_keyring().seal(json.dumps(cleaned_data).encode(), self._aad(step))
        self.data[self.step_data_key][step] = sealed

    def get_step_data(self, step):
        sealed = self.data[self.step_data_key].get(step)
        if sealed is None:
            return None
        try:
            values = json.loads(get_keyring().open(sealed, self._aad(step), "the wizard's saved step"))
        except (SecretUnavailable, TypeError, ValueError):
            return None  # a changed key or a forged session: that step starts over
        return MultiValueDict(values)

    def forget_step(self, step: str) -> None:
        self.data[self.step_data_key].pop(step, None)


# --- the steps ------------------------------------------------------------------------------------


class ProviderStep(forms.Form):
    provider = forms.ChoiceField(
        choices=provider_choices,
        widget=forms.Select(attrs={"size": 12, "data-searchable": "1"}),
        help_text="Type in the search box to filter.",
    )


class ModelStep(forms.Form):
    models = forms.CharField(
        label="Provider models",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line. Add “= public name” to publish it under another name "
        "(default: the model name). A wildcard such as * serves every model of the provider.",
    )
    mode = forms.ChoiceField(choices=MODES, initial="chat")

    def __init__(self, *args, provider_spec: Provider | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider_spec = provider_spec
        if provider_spec:
            self.fields["models"].widget.attrs["placeholder"] = (
                f"{provider_spec.model_placeholder}\n{provider_spec.model_placeholder} = my-public-name"
            )

    def clean_models(self) -> list[ModelLine]:
        if self.provider_spec is None:
            raise ValidationError("Choose the provider first")
        lines = [line.strip() for line in self.cleaned_data["models"].splitlines() if line.strip()]
        if len(lines) > MAX_MODELS:
            raise ValidationError(f"At most {MAX_MODELS} models at once")
        parsed, seen = [], set()
        for number, line in enumerate(lines, start=1):
            model, _, public = (part.strip() for part in line.partition("="))
            try:
                litellm_model = clean_provider_model(self.provider_spec, model)
                name = clean_public_name(public or litellm_model.split("/", 1)[1])
                if name == "*":
                    name = litellm_model
            except ValidationError as exc:
                raise ValidationError(f"Line {number}: {exc.messages[0]}") from None
            if (litellm_model, name) in seen:
                raise ValidationError(f"Line {number}: {line!r} is listed twice")
            seen.add((litellm_model, name))
            parsed.append(ModelLine(litellm_model=litellm_model, public_name=name))
        if not parsed:
            raise ValidationError("Enter at least one model")
        return parsed


class CredentialChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Credential) -> str:
        return f"{obj.name} ({obj.masked_summary()})"


class CredentialsStep(forms.Form):
    """Use an existing credential, or enter new values (the credentials form's rules)."""

    source = forms.ChoiceField(
        choices=[("existing", "Use an existing credential"), ("new", "Enter new credentials")],
        widget=forms.RadioSelect,
        initial="new",
    )
    existing = CredentialChoice(queryset=Credential.objects.none(), required=False, label="Credential")
    save_as_reusable = forms.BooleanField(required=False, label="Save as a reusable credential")
    reusable_name = forms.CharField(required=False, max_length=100, label="Named")
    extra_params = BoundedJSONField(
        label="Extra LiteLLM parameters",
        required=False,
        help_text='JSON object, e.g. {"rpm": 600, "timeout": 30}',
    )
    model_info = BoundedJSONField(
        label="model_info", required=False, help_text='JSON object, e.g. {"base_model": "azure/gpt-4o"}'
    )

    def __init__(self, *args, provider_spec: Provider | None = None, user=None, previous=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider_spec = provider_spec
        self.previous = previous or {}
        self.can_add_credential = bool(user and user.has_perm("credentials.add_credential"))
        self.can_use_existing = bool(user and user.has_perm("credentials.view_credential"))
        if provider_spec is None:
            return
        self.fields.update(catalog_form_fields(provider_spec))
        for f in provider_spec.secret_fields():
            self.fields.pop(f.key + CLEAR_SUFFIX, None)
            if self.previous_secret(f.key):
                self.fields[f.key].widget.attrs["placeholder"] = "entered — leave blank to keep"
                self.fields[f.key].help_text = (
                    "Entered. Leave blank to keep it. " + self.fields[f.key].help_text
                )
        if self.can_use_existing:
            self.fields["existing"].queryset = Credential.objects.filter(provider=provider_spec.slug).defer(
                "secrets"
            )
        else:
            del self.fields["existing"]
            self.fields["source"].choices = [("new", "Enter new credentials")]
        if not self.can_add_credential:
            del self.fields["save_as_reusable"], self.fields["reusable_name"]
        catalog = [f.key for f in provider_spec.fields]
        self.order_fields(["source", "existing", *catalog, "save_as_reusable", "reusable_name"])

    def previous_secret(self, key: str) -> str:
        value = self.previous.get(f"{self.prefix}-{key}") if self.previous else None
        return value if isinstance(value, str) else ""

    def submission(self) -> dict[str, Any]:
        submitted = submission_from(self.provider_spec, self.cleaned_data, self.fields)
        for f in self.provider_spec.secret_fields():
            if f.key in submitted and not submitted[f.key] and self.previous_secret(f.key):
                submitted[f.key] = self.previous_secret(f.key)
        return submitted

    def clean(self):
        data = super().clean()
        if self.provider_spec is None:
            raise ValidationError("Choose the provider first")
        if self.errors:
            return data
        try:
            data["extra_plain"], data["extra_secret"] = split_extra_params(
                self.provider_spec, data.get("extra_params")
            )
            data["model_info"] = clean_model_info(data.get("model_info"))
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        if data.get("source") == "existing":
            if not data.get("existing"):
                self.add_error("existing", "Choose one of this provider's credentials")
            return data
        data["new_values"] = self.submission()
        try:
            clean_values(self.provider_spec, data["new_values"])
        except ValidationError as exc:
            add_service_errors(self, exc)
        if data.get("save_as_reusable"):
            self.check_reusable_name(data)
        return data

    def check_reusable_name(self, data) -> None:
        try:
            name = clean_name(data.get("reusable_name"))
        except ValidationError as exc:
            self.add_error("reusable_name", exc.messages[0])
            return
        if Credential.objects.filter(name__iexact=name).exists():
            self.add_error(
                "reusable_name", f"Name: a credential named {name!r} exists already (names ignore case)"
            )
        data["reusable_name"] = name


class ReviewStep(forms.Form):
    """Nothing to enter: the review page shows everything, then "Add model"."""


# --- the view ----------------------------------------------------------------------------------------


@method_decorator(sensitive_post_parameters(), name="dispatch")
class AddModelWizard(SessionWizardView):
    form_list = [
        ("provider", ProviderStep),
        ("model", ModelStep),
        ("credentials", CredentialsStep),
        ("review", ReviewStep),
    ]
    template_name = "models_registry/wizard.html"
    storage_name = "models_registry.wizard.SealedSessionStorage"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("models_registry.add_modeldeployment"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def provider_spec(self) -> Provider | None:
        data = self.get_cleaned_data_for_step("provider")
        return BY_SLUG.get(data["provider"]) if data else None

    def get_form_kwargs(self, step=None):
        if step == "model":
            return {"provider_spec": self.provider_spec()}
        if step == "credentials":
            return {
                "provider_spec": self.provider_spec(),
                "user": self.request.user,
                "previous": self.storage.get_step_data("credentials"),
            }
        return {}

    def process_step(self, form):
        data = self.get_form_step_data(form).copy()
        if self.steps.current == "provider":
            before = self.storage.get_step_data("provider")
            if before and before.get("provider-provider") != data.get("provider-provider"):
                self.storage.forget_step("credentials")  # another provider: other fields
        if self.steps.current == "credentials" and form.provider_spec:
            for f in form.provider_spec.secret_fields():
                key = f"credentials-{f.key}"
                value = form.cleaned_data.get("new_values", {}).get(f.key)
                if isinstance(value, bytes):
                    value = value.decode("utf-8-sig")
                if isinstance(value, str):
                    data[key] = value
            data.pop("csrfmiddlewaretoken", None)
        return data

    def process_step_files(self, form):
        return {}  # uploads were read into the (sealed) step data

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context.update(
            title="Add model",
            provider=self.provider_spec(),
            step_titles={
                "provider": "Provider",
                "model": "Model",
                "credentials": "Credentials",
                "review": "Review",
            },
        )
        if self.steps.current == "review":
            context["summary"] = self.summary()
        return context

    def collected(self) -> tuple[Provider, dict, dict] | None:
        """The provider and the cleaned model and credentials steps, once all are valid."""
        spec = self.provider_spec()
        model = self.get_cleaned_data_for_step("model")
        creds = self.get_cleaned_data_for_step("credentials")
        return (spec, model, creds) if spec and model and creds else None

    def summary(self) -> dict[str, Any] | None:
        if (found := self.collected()) is None:
            return None
        spec, model, creds = found
        if creds.get("source") == "existing":
            credential = creds["existing"]
            shown = {**{k: v for k, v in credential.params.items()}, **credential.masked}
            using = f"the existing credential {credential.name!r}"
        else:
            cleaned = clean_values(spec, creds["new_values"])
            shown = {**cleaned.params, **{k: mask(v) for k, v in cleaned.secrets.items()}}
            using = (
                f"a new reusable credential named {creds['reusable_name']!r}"
                if creds.get("save_as_reusable")
                else "credentials stored with each deployment"
            )
        shown.update(creds["extra_plain"])
        shown.update({k: mask(v) for k, v in creds["extra_secret"].items()})
        return {
            "provider": spec,
            "models": model["models"],
            "mode": model["mode"],
            "using": using,
            "params": sorted(shown.items()),
            "model_info": creds["model_info"],
        }

    def post(self, *args, **kwargs):
        if self.request.POST.get("test_connection") and self.steps.current == "review":
            self.test_connection()
            form = self.get_form(data=self.storage.get_step_data("review"))
            return self.render(form)
        if self.request.POST.get("wizard_goto_step") in self.get_form_list():
            self.keep_current_step()
        return super().post(*args, **kwargs)

    def keep_current_step(self) -> None:
        """Going back keeps what was typed on this step too, when it is valid."""
        form = self.get_form(data=self.request.POST, files=self.request.FILES)
        if form.is_valid():
            self.storage.set_step_data(self.steps.current, self.process_step(form))

    def probe_input(self) -> tuple[str, dict, str] | None:
        if (found := self.collected()) is None:
            return None
        spec, model, creds = found
        if creds.get("source") == "existing":
            try:
                values = credential_values(creds["existing"])
            except SecretUnavailable as exc:
                return spec.slug, {"error": str(exc)}, None
        else:
            cleaned = clean_values(spec, creds["new_values"])
            values = {**cleaned.params, **cleaned.secrets}
        values.update(creds["extra_plain"])
        values.update(creds["extra_secret"])
        first = model["models"][0].litellm_model.split("/", 1)[1]
        return spec.slug, values, None if "*" in first else first

    def test_connection(self) -> None:
        found = self.probe_input()
        if found is None:
            messages.error(self.request, "Complete the earlier steps first.")
            return
        result = probe_values(*found)
        with audit.source("wizard"):
            audit.record(
                "test",
                actor=self.request.user,
                object_type="unsaved deployment",
                object_repr=f"{found[0]}/{found[2] or '*'}",
                outcome="ok" if result.ok else "failed",
                message=result.message,
            )
        messages.add_message(self.request, messages.SUCCESS if result.ok else messages.ERROR, result.message)

    def done(self, form_list, **kwargs):
        spec, model, creds = self.collected()
        existing = creds.get("existing") if creds.get("source") == "existing" else None
        save_as = creds.get("reusable_name") if creds.get("save_as_reusable") else None
        extra = {**creds["extra_plain"], **creds["extra_secret"]}
        try:
            with audit.source("wizard"):
                created = deployments_create(
                    provider=spec.slug,
                    models=model["models"],
                    credential=existing,
                    new_values=None if existing else creds["new_values"],
                    save_as=save_as,
                    extra_params=extra,
                    model_info=creds["model_info"],
                    mode=model["mode"],
                    actor=self.request.user,
                )
        except ValidationError as exc:
            messages.error(self.request, "; ".join(exc.messages))
            return self.render_goto_step("credentials")
        names = ", ".join(sorted({d.model_name for d in created}))
        messages.success(self.request, f"Added {len(created)} model deployment(s): {names}.")
        return redirect(reverse("admin:models_registry_modeldeployment_changelist"))
