"""`manage.py credentials list|show|add|update|delete|test|from-model`."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from credentials.catalog import BY_SLUG, UnknownProvider, get_provider
from credentials.models import Credential
from credentials.probe import probe_credential
from credentials.services import credential_delete, credential_save, with_usage
from litecreds.cli import GroupCommand, SetReader, add_format, unset_values
from models_registry.models import ModelDeployment
from models_registry.services import credential_from_deployment


def find_credential(name: str, *, secrets: bool = True) -> Credential:
    queryset = Credential.objects.all() if secrets else Credential.objects.defer("secrets")
    credential = queryset.filter(name=name).first() or queryset.filter(name__iexact=name).first()
    if credential is None:
        raise CommandError(f"no credential named {name!r}")
    return credential


def find_deployment(model_id: str) -> ModelDeployment:
    try:
        return ModelDeployment.objects.select_related("credential").get(pk=model_id)
    except (ModelDeployment.DoesNotExist, ValidationError, ValueError):
        raise CommandError(f"no model deployment with id {model_id!r}") from None


def describe(credential: Credential) -> dict:
    return {
        "id": str(credential.id),
        "name": credential.name,
        "provider": credential.provider,
        "settings": credential.params,
        "secrets": credential.masked,
        "description": credential.description,
        "deployments": getattr(credential, "deployment_count", None),
        "updated_at": credential.updated_at.isoformat(timespec="seconds"),
    }


class Command(GroupCommand):
    help = "Manage credentials. Secret values come from standard input (--set KEY=@-) or files (@path)."
    subcommands = {
        "list": "List credentials (masked).",
        "show": "Show one credential (masked) and the deployments using it.",
        "add": "Add a credential.",
        "update": "Change some values of a credential; what is not named is kept.",
        "delete": "Delete a credential (refused while in use, unless --reassign).",
        "test": "Test the connection with a stored credential.",
        "from-model": "Create a reusable credential from a deployment's inline credentials.",
    }

    # --- arguments ---------------------------------------------------------------------------------
    def args_list(self, parser):
        parser.add_argument("--provider")
        add_format(parser)

    def args_show(self, parser):
        parser.add_argument("name")
        add_format(parser)

    def args_add(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--provider", required=True)
        parser.add_argument("--description")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets")

    def args_update(self, parser):
        parser.add_argument("name")
        parser.add_argument("--rename")
        parser.add_argument("--description")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets")
        parser.add_argument("--unset", action="append", default=[], metavar="KEY")

    def args_delete(self, parser):
        parser.add_argument("name")
        parser.add_argument("--reassign", metavar="OTHER", help="Move its deployments to OTHER first.")

    def args_test(self, parser):
        parser.add_argument("name")

    def args_from_model(self, parser):
        parser.add_argument("model_id")
        parser.add_argument("--name", required=True)

    # --- subcommands -----------------------------------------------------------------------------
    def sub_list(self, provider=None, format="table", **options):
        queryset = with_usage(Credential.objects.all())
        if provider:
            queryset = queryset.filter(provider=provider)
        rows = [describe(c) for c in queryset]
        if format == "table":
            for row in rows:
                row["secrets"] = ", ".join(f"{k} {v}" for k, v in sorted(row["secrets"].items()))
        self.emit(rows, ["name", "provider", "secrets", "deployments", "updated_at"], format)

    def sub_show(self, name, format="table", **options):
        credential = find_credential(name, secrets=False)
        data = describe(credential)
        data["deployments"] = [
            {"id": str(d.id), "model_name": d.model_name, "litellm_model": d.litellm_model}
            for d in credential.deployments.order_by("model_name")
        ]
        self.emit_one(data, format)

    def sub_add(self, name, provider, sets, description=None, **options):
        try:
            spec = get_provider(provider)
        except UnknownProvider as exc:
            raise CommandError(str(exc)) from None
        submitted = SetReader(self.stdin).read(spec, sets)
        credential = credential_save(
            name=name, provider=provider, submitted=submitted, description=description, actor=self.actor
        )
        self.stdout.write(f"Added credential {credential.name!r} ({credential.provider}), id {credential.id}")

    def sub_update(self, name, sets, unset, rename=None, description=None, **options):
        credential = find_credential(name)
        spec = BY_SLUG.get(credential.provider)
        submitted = SetReader(self.stdin).read(spec, sets)
        overlap = set(submitted) & set(unset)
        if overlap:
            raise CommandError(f"--set and --unset both name {', '.join(sorted(overlap))}")
        submitted.update(unset_values(spec, unset))
        credential = credential_save(
            credential=credential,
            name=rename or credential.name,
            provider=credential.provider,
            submitted=submitted,
            description=description,
            actor=self.actor,
        )
        self.stdout.write(f"Updated credential {credential.name!r}")

    def sub_delete(self, name, reassign=None, **options):
        credential = find_credential(name, secrets=False)
        other = find_credential(reassign, secrets=False) if reassign else None
        moved = credential_delete(credential, reassign_to=other, actor=self.actor)
        note = f"; {moved} deployment(s) now use {other.name!r}" if other else ""
        self.stdout.write(f"Deleted credential {credential.name!r}{note}")

    def sub_test(self, name, **options):
        result = probe_credential(find_credential(name), actor=self.actor)
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(result.message)

    def sub_from_model(self, model_id, name, **options):
        deployment = find_deployment(model_id)
        credential = credential_from_deployment(deployment, name=name, actor=self.actor)
        self.stdout.write(f"Created credential {credential.name!r}; deployment {deployment.id} now uses it")
