"""`manage.py models list|show|add|delete|test`."""

import json

from django.core.management.base import CommandError

from credentials.catalog import UnknownProvider, get_provider
from credentials.management.commands.credentials import find_credential, find_deployment
from litecreds.cli import GroupCommand, SetReader, add_format, is_secret
from models_registry.models import MODES, ModelDeployment
from models_registry.services import (
    ModelLine,
    clean_provider_model,
    clean_public_name,
    deployment_delete,
    deployments_create,
    masked_params,
    probe_deployment,
)


def describe(deployment: ModelDeployment) -> dict:
    return {
        "id": str(deployment.id),
        "model_name": deployment.model_name,
        "litellm_model": deployment.litellm_model,
        "provider": deployment.provider,
        "credential": deployment.credential.name if deployment.credential_id else "",
        "mode": deployment.mode,
        "active": deployment.is_active,
    }


class Command(GroupCommand):
    help = "Manage model deployments. Secret values come from standard input (--set KEY=@-) or files."
    subcommands = {
        "list": "List model deployments.",
        "show": "Show one deployment with its resolved parameters (masked).",
        "add": "Add a deployment with a shared credential or inline values.",
        "delete": "Delete a deployment.",
        "test": "Test the connection of a deployment.",
    }

    def args_list(self, parser):
        parser.add_argument("--provider")
        parser.add_argument("--credential", metavar="NAME")
        add_format(parser)

    def args_show(self, parser):
        parser.add_argument("model_id")
        add_format(parser)

    def args_add(self, parser):
        parser.add_argument("--model-name", required=True, help="The public name, e.g. gpt-4o.")
        parser.add_argument("--litellm-model", required=True, help="provider/model, e.g. azure/gpt-4o-eu.")
        parser.add_argument("--credential", metavar="NAME", help="Use this shared credential.")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets")
        parser.add_argument("--mode", choices=[m[0] for m in MODES], default="chat")
        parser.add_argument("--model-info", help="model_info as a JSON object.")

    def args_delete(self, parser):
        parser.add_argument("model_id")

    def args_test(self, parser):
        parser.add_argument("model_id")

    def sub_list(self, provider=None, credential=None, format="table", **options):
        queryset = ModelDeployment.objects.select_related("credential").defer(
            "secrets", "credential__secrets"
        )
        if provider:
            queryset = queryset.filter(provider=provider)
        if credential:
            queryset = queryset.filter(credential=find_credential(credential, secrets=False))
        rows = [describe(d) for d in queryset]
        self.emit(rows, ["id", "model_name", "litellm_model", "credential", "mode", "active"], format)

    def sub_show(self, model_id, format="table", **options):
        deployment = find_deployment(model_id)
        data = describe(deployment)
        data["litellm_params"] = masked_params(deployment)
        data["model_info"] = deployment.model_info
        self.emit_one(data, format)

    def sub_add(
        self, model_name, litellm_model, sets, credential=None, mode="chat", model_info=None, **options
    ):
        slug = litellm_model.split("/", 1)[0]
        try:
            spec = get_provider(slug)
        except UnknownProvider as exc:
            raise CommandError(f"--litellm-model {litellm_model!r}: {exc}") from None
        if credential and sets:
            raise CommandError("use either --credential NAME or --set KEY=VALUE, not both")
        values = SetReader(self.stdin).read(spec, sets)
        catalog = {k: v for k, v in values.items() if spec.field(k)}
        extra = {k: v for k, v in values.items() if not spec.field(k)}
        try:
            info = json.loads(model_info) if model_info else {}
        except json.JSONDecodeError as exc:
            raise CommandError(f"--model-info: not valid JSON ({exc.msg})") from None
        line = ModelLine(
            litellm_model=clean_provider_model(spec, litellm_model), public_name=clean_public_name(model_name)
        )
        created = deployments_create(
            provider=slug,
            models=[line],
            credential=find_credential(credential) if credential else None,
            new_values=None if credential else catalog,
            extra_params={k: coerce(v) if not is_secret(spec, k) else v for k, v in extra.items()},
            model_info=info,
            mode=mode,
            actor=self.actor,
        )
        self.stdout.write(f"Added model deployment {created[0]}, id {created[0].id}")

    def sub_delete(self, model_id, **options):
        deployment = find_deployment(model_id)
        deployment_delete(deployment, actor=self.actor)
        self.stdout.write(f"Deleted model deployment {deployment}")

    def sub_test(self, model_id, **options):
        result = probe_deployment(find_deployment(model_id), actor=self.actor)
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(result.message)


def coerce(value: str):
    """Numbers and booleans given to --set as text become JSON values (rpm=600 is 600)."""
    try:
        parsed = json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value
    return parsed if isinstance(parsed, int | float | bool) else value
