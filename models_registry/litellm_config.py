"""LiteLLM proxy ``config.yaml``: export what litecreds stores, import what a proxy uses.

The format: ``credential_list`` entries (``credential_name``, ``credential_values``,
``credential_info`` with ``custom_llm_provider``) and ``model_list`` entries (``model_name``,
``litellm_params`` with ``model`` and ``litellm_credential_name`` or inline values,
``model_info``). Values may be ``os.environ/NAME`` references.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from credentials.catalog import AUTH_METHOD, BY_SLUG, Provider
from credentials.models import Credential
from credentials.services import credential_prepare, credential_write, user_or_none
from credentials.values import clean_values, looks_secret, masks
from litecreds import audit
from models_registry.models import ModelDeployment
from models_registry.services import (
    clean_model_info,
    clean_provider_model,
    clean_public_name,
    credential_values,
    split_extra_params,
)

ENV_PREFIX = "os.environ/"
MAX_CONFIG_BYTES = 10 * 1024 * 1024


# --- export ----------------------------------------------------------------------------------------


def env_name(*parts: str) -> str:
    return "LITECREDS_" + "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() or "X" for p in parts)


class EnvWriter:
    """Collects secret values as ``os.environ/`` references and their values for a .env file."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def ref(self, owner: str, key: str, value: Any) -> str:
        base = env_name(owner, key)
        name, n = base, 2
        while name in self.values:
            name, n = f"{base}_{n}", n + 1
        self.values[name] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return ENV_PREFIX + name

    def dotenv(self) -> str:
        lines = ["# Written by `manage.py litellm export --secrets env`. Keep it private (mode 0600)."]
        for name, value in self.values.items():
            quoted = value.replace("\\", "\\\\").replace("'", "\\'")  # python-dotenv's single quotes
            lines.append(f"{name}='{quoted}'")
        return "\n".join(lines) + "\n"


def export_value(value: Any) -> Any:
    """Service-account JSON travels as a JSON string, the form LiteLLM accepts everywhere."""
    return json.dumps(value, separators=(",", ":")) if isinstance(value, dict) else value


def secret_keys(spec: Provider | None, values: Mapping[str, Any]) -> set[str]:
    return {k for k in values if (spec and spec.field(k) and spec.field(k).secret) or looks_secret(k)}


def seal_out(values: dict[str, Any], spec, owner: str, env: EnvWriter | None) -> dict[str, Any]:
    out = {}
    secret = secret_keys(spec, values)
    for key, value in values.items():
        out[key] = env.ref(owner, key, value) if env is not None and key in secret else export_value(value)
    return out


def build_config(*, env: EnvWriter | None = None) -> dict[str, Any]:
    """The config for every credential and every active deployment: two queries in all."""
    credentials = {c.pk: c for c in Credential.objects.order_by("name")}
    credential_list = []
    for credential in credentials.values():
        spec = BY_SLUG.get(credential.provider)
        info = {"custom_llm_provider": credential.provider}
        if credential.description:
            info["description"] = credential.description
        credential_list.append(
            {
                "credential_name": credential.name,
                "credential_values": seal_out(credential_values(credential), spec, credential.name, env),
                "credential_info": info,
            }
        )
    model_list = []
    deployments = ModelDeployment.objects.filter(is_active=True).order_by("model_name", "litellm_model", "id")
    for deployment in deployments.iterator(chunk_size=2000):
        spec = BY_SLUG.get(deployment.provider)
        own = {
            k: v
            for k, v in {**deployment.params, **deployment.secrets}.items()
            if v not in ("", None) and k != AUTH_METHOD
        }
        params: dict[str, Any] = {"model": deployment.litellm_model}
        if deployment.credential_id:
            params["litellm_credential_name"] = credentials[deployment.credential_id].name
        params.update(seal_out(own, spec, f"{deployment.model_name}_{str(deployment.id)[:8]}", env))
        entry: dict[str, Any] = {"model_name": deployment.model_name, "litellm_params": params}
        if deployment.model_info:
            entry["model_info"] = deployment.model_info
        model_list.append(entry)
    return {"model_list": model_list, "credential_list": credential_list}


def dump(config: dict[str, Any]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when the wheel has it
    return yaml.dump(config, Dumper=dumper, sort_keys=False, allow_unicode=True, width=1000)


# --- import ----------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=lambda: {"credentials": 0, "deployments": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"credentials": 0, "deployments": 0})
    skipped: dict[str, int] = field(default_factory=lambda: {"credentials": 0, "deployments": 0})

    def line(self) -> str:
        parts = []
        for kind in ("credentials", "deployments"):
            created, updated, skipped = self.created[kind], self.updated[kind], self.skipped[kind]
            parts.append(f"{kind}: {created} created, {updated} updated, {skipped} skipped")
        return "; ".join(parts)


class ConfigInvalid(ValidationError):
    """The config cannot be imported; the messages name every entry at fault."""


def parse(text: str) -> dict:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CONFIG_BYTES:
        raise ConfigInvalid(f"the config is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigInvalid(
            f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc.__class__.__name__}"
        ) from None
    except RecursionError:
        raise ConfigInvalid("not valid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigInvalid(f"the config must be a mapping with model_list, not {type(data).__name__}")
    if "model_list" not in data:
        raise ConfigInvalid("model_list: missing")
    if not isinstance(data["model_list"], list):
        raise ConfigInvalid("model_list: must be a list")
    if not isinstance(data.get("credential_list") or [], list):
        raise ConfigInvalid("credential_list: must be a list")
    return data


def resolve_env(data: Any, environ: Mapping[str, str], missing: list[str], path: str = "") -> Any:
    """Replace every ``os.environ/NAME`` string with the variable's value; collect missing names."""
    if isinstance(data, dict):
        return {
            k: resolve_env(v, environ, missing, f"{path}.{k}" if path else str(k)) for k, v in data.items()
        }
    if isinstance(data, list):
        return [resolve_env(v, environ, missing, f"{path}[{i}]") for i, v in enumerate(data)]
    if isinstance(data, str) and data.startswith(ENV_PREFIX):
        name = data[len(ENV_PREFIX) :]
        if name not in environ:
            missing.append(f"{name} (for {path})")
            return None
        return environ[name]
    return data


def infer_auth_method(spec: Provider, values: Mapping[str, Any]) -> str | None:
    """The authentication choice whose required fields the values hold (LiteLLM has none)."""
    auth = spec.auth_field
    if auth is None:
        return None
    for method, _label in auth.choices:
        needed = [f.key for f in spec.fields if f.show_when and method in f.show_when and f.required]
        if needed and all(values.get(k) not in (None, "") for k in needed):
            return method
    fallback = {"bedrock": "default_chain", "vertex_ai": "adc"}
    return fallback.get(spec.slug, spec.default_auth_method())


def split_for_catalog(spec: Provider, values: Mapping[str, Any]) -> tuple[dict, dict]:
    catalog = {k: v for k, v in values.items() if spec.field(k)}
    extra = {k: v for k, v in values.items() if not spec.field(k)}
    for key, value in list(catalog.items()):
        if isinstance(value, int | float) and not isinstance(value, bool):
            catalog[key] = str(value)
    catalog[AUTH_METHOD] = catalog.get(AUTH_METHOD) or infer_auth_method(spec, catalog)
    if catalog[AUTH_METHOD] is None:
        del catalog[AUTH_METHOD]
    return catalog, extra


def provider_of(credential_info: Mapping | None, model: str | None) -> str | None:
    slug = (credential_info or {}).get("custom_llm_provider")
    if not slug and model and "/" in model:
        slug = model.split("/", 1)[0]
    return slug


def run_import(
    text: str,
    *,
    environ: Mapping[str, str] | None = None,
    on_conflict: str = "fail",
    dry_run: bool = False,
    actor=None,
) -> ImportReport:
    """Validate every entry, then write all of it in one transaction, or nothing."""
    data = parse(text)
    missing: list[str] = []
    try:
        data = resolve_env(data, os.environ if environ is None else environ, missing)
    except RecursionError:
        raise ConfigInvalid(
            "the config refers to itself (a YAML alias loop) or is nested too deeply"
        ) from None
    if missing:
        raise ConfigInvalid("environment variables not set: " + ", ".join(missing))
    errors: list[str] = []
    report = ImportReport()
    try:
        with transaction.atomic():
            names = import_credentials(data.get("credential_list") or [], on_conflict, report, errors, actor)
            import_models(data["model_list"], names, on_conflict, report, errors, actor)
            if errors:
                raise ConfigInvalid(errors)
            audit.record("import", actor=actor, object_type="litellm config", message=report.line())
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


class _DryRun(Exception):
    pass


def import_credentials(entries, on_conflict, report, errors, actor) -> dict[str, Credential]:
    by_name: dict[str, Credential] = {}
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"credential_list[{number}]"
        if not isinstance(entry, dict) or not entry.get("credential_name"):
            errors.append(f"{where}: needs credential_name")
            continue
        name = str(entry["credential_name"])
        where = f"credential_list[{number}] ({name})"
        if name.lower() in seen:
            errors.append(f"{where}: credential_name is defined twice")
            continue
        seen.add(name.lower())
        values = entry.get("credential_values") or {}
        info = entry.get("credential_info") or {}
        if not isinstance(values, dict) or not isinstance(info, dict):
            errors.append(f"{where}: credential_values and credential_info must be mappings")
            continue
        slug = provider_of(info, None)
        if slug not in BY_SLUG:
            errors.append(f"{where}: unknown custom_llm_provider {slug!r}")
            continue
        spec = BY_SLUG[slug]
        catalog, extra = split_for_catalog(spec, values)
        if extra:
            errors.append(f"{where}: {spec.label} has no field {', '.join(sorted(extra))}")
            continue
        existing = Credential.objects.filter(name__iexact=name).first()
        if existing and on_conflict == "skip":
            report.skipped["credentials"] += 1
            by_name[name] = existing
            continue
        if existing and on_conflict == "fail":
            errors.append(f"{where}: a credential with this name exists (use --on-conflict skip or update)")
            continue
        if existing and existing.provider != slug:
            errors.append(f"{where}: the existing credential is for {existing.provider}, not {slug}")
            continue
        description = info.get("description")
        try:
            prepared = credential_prepare(
                credential=existing, name=name, provider=slug, submitted=catalog, description=description
            )
        except ValidationError as exc:
            errors += [f"{where}: {m}" for msgs in exc.message_dict.values() for m in msgs]
            continue
        by_name[name] = credential_write(prepared, actor=actor)
        (report.updated if existing else report.created)["credentials"] += 1
    return by_name


def import_models(entries, credentials, on_conflict, report, errors, actor) -> None:
    lower = {name.lower(): c for name, c in credentials.items()}
    for number, entry in enumerate(entries, start=1):
        where = f"model_list[{number}]"
        if not isinstance(entry, dict):
            errors.append(f"{where}: must be a mapping")
            continue
        params = entry.get("litellm_params")
        if not isinstance(params, dict) or not params.get("model"):
            errors.append(f"{where}: needs litellm_params.model")
            continue
        params = dict(params)
        model = str(params.pop("model"))
        where = f"model_list[{number}] ({entry.get('model_name')} → {model})"
        credential_name = params.pop("litellm_credential_name", None)
        credential = None
        if credential_name is not None:
            credential = lower.get(str(credential_name).lower())
            if credential is None:
                errors.append(
                    f"{where}: litellm_credential_name {credential_name!r} is not defined in credential_list"
                )
                continue
        slug = provider_of(None, model) if "/" in model else (credential.provider if credential else None)
        if params.get("custom_llm_provider"):
            slug = params.pop("custom_llm_provider")
        if slug not in BY_SLUG:
            errors.append(f"{where}: unknown provider {slug!r} (use a provider/model string)")
            continue
        spec = BY_SLUG[slug]
        try:
            public = clean_public_name(entry.get("model_name"))
            litellm_model = clean_provider_model(spec, model)
            info = clean_model_info(entry.get("model_info") or {})
            if credential is not None and credential.provider != slug:
                raise ValidationError(
                    f"credential {credential.name!r} is for {credential.provider}, not {slug}"
                )
            catalog, extra = split_for_catalog(spec, params)
            if credential is not None:
                # On top of a shared credential, catalog keys are overrides: keep them as they are.
                inline_params, inline_secrets = {}, {}
                extra = {**{k: v for k, v in catalog.items() if k != AUTH_METHOD}, **extra}
            else:
                cleaned = clean_values(spec, catalog)
                inline_params, inline_secrets = cleaned.params, cleaned.secrets
            plain_extra, secret_extra = split_extra_params(spec, extra)
        except ValidationError as exc:
            errors += [f"{where}: {m}" for m in exc.messages]
            continue
        existing = ModelDeployment.objects.filter(model_name=public, litellm_model=litellm_model).first()
        if existing and on_conflict == "skip":
            report.skipped["deployments"] += 1
            continue
        if existing and on_conflict == "fail":
            errors.append(f"{where}: a deployment of this model under this name exists (use --on-conflict)")
            continue
        deployment = existing or ModelDeployment(
            model_name=public, provider=slug, litellm_model=litellm_model
        )
        deployment.provider, deployment.credential = slug, credential
        deployment.params = {**inline_params, **plain_extra}
        deployment.secrets = {**inline_secrets, **secret_extra}
        deployment.masked = masks(deployment.secrets)
        deployment.model_info = info
        deployment.is_active = True
        if not existing:
            deployment.created_by = user_or_none(actor)
        deployment.updated_by = user_or_none(actor)
        deployment.save()
        audit.record("update" if existing else "create", deployment, actor=actor, fields=["litellm_params"])
        (report.updated if existing else report.created)["deployments"] += 1
