"""Writes and the one resolver for model deployments; the wizard, admin and commands use these."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from credentials.catalog import AUTH_METHOD, Provider, get_provider
from credentials.models import Credential
from credentials.services import credential_prepare, credential_save, credential_write, user_or_none
from credentials.values import clean_values, looks_secret, masks
from litecreds import audit
from litecreds.jsonutil import MAX_DEPTH, depth
from litecreds.keyring import SecretUnavailable
from models_registry.models import MODES, ModelDeployment

MODE_NAMES = {m[0] for m in MODES}


def credential_values(credential: Credential) -> dict[str, Any]:
    """What a credential contributes to a gateway: its LiteLLM parameters, secrets included."""
    values = {k: v for k, v in credential.params.items() if k != AUTH_METHOD}
    values.update(credential.secrets)
    return values


def litellm_params(deployment: ModelDeployment, *, include_credential: bool = True) -> dict[str, Any]:
    """The parameters a gateway needs: the credential's values, then the deployment's own
    non-empty values on top (an empty value never overrides), with the ``model`` string."""
    values: dict[str, Any] = {}
    if include_credential and deployment.credential_id:
        values.update(credential_values(deployment.credential))
    own = {**deployment.params, **deployment.secrets}
    values.update({k: v for k, v in own.items() if v not in ("", None) and k != AUTH_METHOD})
    values["model"] = deployment.litellm_model
    return values


def masked_params(deployment: ModelDeployment) -> dict[str, Any]:
    """``litellm_params`` with every secret replaced by its masked preview (no decryption)."""
    values: dict[str, Any] = {}
    if deployment.credential_id:
        credential = deployment.credential
        values.update({k: v for k, v in credential.params.items() if k != AUTH_METHOD})
        values.update(credential.masked)
    values.update({k: v for k, v in deployment.params.items() if v not in ("", None) and k != AUTH_METHOD})
    values.update(deployment.masked)
    values["model"] = deployment.litellm_model
    return values


# --- validation -----------------------------------------------------------------------------------


def clean_public_name(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValidationError("Public name: is required")
    if len(text) > 200:
        raise ValidationError("Public name: longer than 200 characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text) or any(c.isspace() for c in text):
        raise ValidationError(f"Public name: {text[:60]!r} contains spaces or control characters")
    return text


def clean_provider_model(spec: Provider, value: Any) -> str:
    """``provider/model`` from a model name typed with or without the provider prefix."""
    text = clean_public_name(value).removeprefix(f"{spec.slug}/")
    if len(text) > 250:
        raise ValidationError("Provider model: longer than 250 characters")
    if text == "":
        raise ValidationError("Provider model: is required")
    return f"{spec.slug}/{text}"


def clean_model_info(model_info: Any, mode: str | None = None) -> dict:
    info = dict(model_info or {})
    if not isinstance(model_info or {}, dict):
        raise ValidationError("model_info: must be a JSON object")
    if mode:
        info["mode"] = mode
    if "mode" in info and info["mode"] not in MODE_NAMES:
        raise ValidationError(f"model_info.mode: must be one of {', '.join(sorted(MODE_NAMES))}")
    if depth(info) > MAX_DEPTH:
        raise ValidationError(f"model_info: nested more than {MAX_DEPTH} levels deep")
    return info


def split_extra_params(spec: Provider, extra: Any) -> tuple[dict, dict]:
    """Extra LiteLLM parameters as (plain, secret): names that say secret are always sealed."""
    if extra in (None, ""):
        return {}, {}
    if not isinstance(extra, dict):
        raise ValidationError("Extra LiteLLM parameters: must be a JSON object")
    if depth(extra) > MAX_DEPTH:
        raise ValidationError(f"Extra LiteLLM parameters: nested more than {MAX_DEPTH} levels deep")
    plain, secret = {}, {}
    for key, value in extra.items():
        if key == "model":
            raise ValidationError("Extra LiteLLM parameters: 'model' is set from the provider model")
        field = spec.field(key)
        (secret if (field and field.secret) or looks_secret(key) else plain)[key] = value
    return plain, secret


# --- writes ---------------------------------------------------------------------------------------


@dataclass
class ModelLine:
    litellm_model: str
    public_name: str


@sensitive_variables()
@transaction.atomic
def deployments_create(
    *,
    provider: str,
    models: list[ModelLine],
    credential: Credential | None = None,
    new_values: Mapping[str, Any] | None = None,
    save_as: str | None = None,
    extra_params: Any = None,
    model_info: Any = None,
    mode: str | None = None,
    actor=None,
) -> list[ModelDeployment]:
    """Create the deployments (and the reusable credential, if asked) in one transaction."""
    spec = get_provider(provider)
    if not models:
        raise ValidationError("Models: enter at least one model")
    info = clean_model_info(model_info, mode)
    plain_extra, secret_extra = split_extra_params(spec, extra_params)
    inline_params: dict[str, Any] = {}
    inline_secrets: dict[str, Any] = {}
    if credential is not None and credential.provider != provider:
        raise ValidationError(f"Credential: {credential.name!r} is for {credential.provider}, not {provider}")
    if credential is None and new_values is not None:
        if save_as:
            credential = credential_save(name=save_as, provider=provider, submitted=new_values, actor=actor)
        else:
            cleaned = clean_values(spec, new_values)
            inline_params, inline_secrets = cleaned.params, cleaned.secrets
    created = []
    for line in models:
        secrets = {**inline_secrets, **secret_extra}
        deployment = ModelDeployment(
            model_name=line.public_name,
            provider=provider,
            litellm_model=line.litellm_model,
            credential=credential,
            params={**inline_params, **plain_extra},
            secrets=secrets,
            masked=masks(secrets),
            model_info=info,
            created_by=user_or_none(actor),
            updated_by=user_or_none(actor),
        )
        deployment.save()
        audit.record("create", deployment, actor=actor, fields=changed_fields(None, deployment))
        created.append(deployment)
    return created


TRACKED = ("model_name", "litellm_model", "credential_id", "is_active", "model_info")


def changed_fields(before: dict | None, deployment: ModelDeployment) -> list[str]:
    """Names of what changed (``params.x``, ``secrets.y``); never the values."""
    after = snapshot(deployment)
    before = before or {"params": {}, "secrets": {}}
    names = [name for name in TRACKED if before.get(name) != after[name]]
    for part in ("params", "secrets"):
        keys = set(before[part]) | set(after[part])
        names += [f"{part}.{k}" for k in sorted(keys) if before[part].get(k) != after[part].get(k)]
    return names


def snapshot(deployment: ModelDeployment) -> dict:
    data = {name: getattr(deployment, name) for name in TRACKED}
    data["params"], data["secrets"] = dict(deployment.params), readable_secrets(deployment)
    return data


class ParamsWouldChange(ValidationError):
    pass


@transaction.atomic
def credential_from_deployment(deployment: ModelDeployment, *, name: Any, actor=None) -> Credential:
    """Move a deployment's inline credential fields into a new reusable credential.

    The deployment then points at it and keeps no inline secret of the credential; its
    resolved ``litellm_params()`` stay exactly the same, or nothing is written.
    """
    deployment = ModelDeployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.credential_id:
        raise ValidationError("This deployment already uses a shared credential")
    spec = get_provider(deployment.provider)
    before = litellm_params(deployment)
    catalog_keys = {f.key for f in spec.fields}
    submitted = {k: v for k, v in {**deployment.params, **deployment.secrets}.items() if k in catalog_keys}
    prepared = credential_prepare(
        credential=None, name=name, provider=deployment.provider, submitted=submitted
    )
    credential = credential_write(prepared, actor=actor)
    deployment.credential = credential
    deployment.params = {k: v for k, v in deployment.params.items() if k not in catalog_keys}
    deployment.secrets = {k: v for k, v in deployment.secrets.items() if k not in catalog_keys}
    deployment.masked = masks(deployment.secrets)
    deployment.updated_by = user_or_none(actor)
    if litellm_params(deployment) != before:
        raise ParamsWouldChange(
            "The credential's checked values differ from the deployment's own; nothing was changed. "
            "Edit the deployment so its values pass the credential rules first."
        )
    deployment.save()
    audit.record("update", deployment, actor=actor, fields=["credential", "secrets", "params"])
    return credential


def readable_secrets(deployment: ModelDeployment) -> dict:
    """The inline secrets, or none when they cannot be opened (to be entered again)."""
    try:
        return dict(deployment.secrets)
    except SecretUnavailable:
        return {}


def inline_part(deployment: ModelDeployment, spec: Provider) -> tuple[dict, dict, dict]:
    """The deployment's own credential fields: (params, secrets, masked) of catalog keys."""
    keys = {f.key for f in spec.fields}
    params = {k: v for k, v in deployment.params.items() if k in keys}
    secrets = {k: v for k, v in readable_secrets(deployment).items() if k in keys}
    masked = {k: v for k, v in deployment.masked.items() if k in keys}
    return params, secrets, masked


def deployment_prepare(
    deployment: ModelDeployment,
    *,
    model_name: Any,
    litellm_model: Any,
    is_active: bool,
    credential: Credential | None,
    inline: Mapping[str, Any] | None,
    extra_params: Any,
    model_info: Any,
) -> ModelDeployment:
    """Validate an edit of a deployment and apply it to ``deployment`` (unsaved)."""
    deployment._audit_before = snapshot(deployment)
    spec = get_provider(deployment.provider)
    errors: dict[str, list[str]] = {}

    def attempt(key: str, fn, *args):
        try:
            return fn(*args)
        except ValidationError as exc:
            for k, msgs in exc.message_dict.items() if hasattr(exc, "error_dict") else [(key, exc.messages)]:
                errors.setdefault(k, []).extend(msgs)
            return None

    name = attempt("model_name", clean_public_name, model_name)
    model = attempt("litellm_model", clean_provider_model, spec, litellm_model)
    info = attempt("model_info", clean_model_info, model_info)
    split = attempt("params", split_extra_params, spec, extra_params)
    if credential is not None and credential.provider != deployment.provider:
        errors.setdefault("credential", []).append(
            f"Credential: {credential.name!r} is for {credential.provider}"
        )
    stored_params, stored_secrets, stored_masked = inline_part(deployment, spec)
    cleaned = None
    if credential is None:
        cleaned = attempt(
            "inline",
            lambda: clean_values(
                spec,
                inline or {},
                stored_secrets=stored_secrets,
                stored_params=stored_params,
                masked=stored_masked,
                existing=bool(stored_params or stored_secrets),
            ),
        )
    if errors:
        raise ValidationError(errors)
    plain_extra, secret_extra = split
    keys = {f.key for f in spec.fields}
    kept_secret_extra = {k: v for k, v in readable_secrets(deployment).items() if k not in keys}
    deployment.model_name, deployment.litellm_model, deployment.is_active = name, model, is_active
    deployment.credential, deployment.model_info = credential, info
    deployment.params = {**(cleaned.params if cleaned else {}), **plain_extra}
    deployment.secrets = {**(cleaned.secrets if cleaned else {}), **kept_secret_extra, **secret_extra}
    deployment.masked = masks(deployment.secrets)
    return deployment


@transaction.atomic
def deployment_write(deployment: ModelDeployment, *, actor=None) -> ModelDeployment:
    adding = deployment._state.adding
    if adding:
        deployment.created_by = user_or_none(actor)
    deployment.updated_by = user_or_none(actor)
    deployment.save()
    before = None if adding else getattr(deployment, "_audit_before", None)
    audit.record(
        "create" if adding else "update", deployment, actor=actor, fields=changed_fields(before, deployment)
    )
    return deployment


@transaction.atomic
def deployment_delete(deployment: ModelDeployment, *, actor=None) -> None:
    audit.record("delete", deployment, actor=actor)
    deployment.delete()


def probe_deployment(deployment: ModelDeployment, *, actor=None):
    """Test connection for a saved deployment, recorded in the audit trail; never raises."""
    from credentials.probe import ProbeResult, probe_values

    try:
        values = litellm_params(deployment)
    except SecretUnavailable as exc:
        result = ProbeResult(False, f"The stored secrets cannot be opened: {exc}")
    else:
        model = values.pop("model").split("/", 1)[-1]
        result = probe_values(deployment.provider, values, None if "*" in model else model)
    audit.record(
        "test", deployment, actor=actor, outcome="ok" if result.ok else "failed", message=result.message
    )
    return result
