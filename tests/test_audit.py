"""Every write and test is in the audit trail, from each path, with field names and no secret."""

import pytest

from credentials.models import Credential
from litecreds.models import AuditEvent
from models_registry.models import ModelDeployment
from tests.test_wizard import step, through_models

pytestmark = pytest.mark.django_db

KEY = "sk-audit-0123456789abcdefghijklm"


def events() -> list[tuple]:
    return list(
        AuditEvent.objects.order_by("id").values_list("actor", "source", "action", "object_type", "outcome")
    )


def audit_text() -> str:
    return "\n".join(str(row) for row in AuditEvent.objects.values_list())


def test_the_admin_records_create_update_and_delete(admin_client):
    admin_client.post(
        "/admin/credentials/credential/add/?provider=openai",
        {"name": "audited", "provider": "openai", "api_key": KEY, "metadata": "{}"},
    )
    credential = Credential.objects.get()
    version = credential.updated_at.isoformat()
    admin_client.post(
        f"/admin/credentials/credential/{credential.pk}/change/",
        {
            "opened_version": version,
            "name": "audited",
            "api_key": "",
            "organization": "org-1",
            "metadata": "{}",
        },
    )
    admin_client.post(f"/admin/credentials/credential/{credential.pk}/delete/", {"post": "yes"})
    assert events() == [
        ("alice", "admin", "create", "credentials.Credential", "ok"),
        ("alice", "admin", "update", "credentials.Credential", "ok"),
        ("alice", "admin", "delete", "credentials.Credential", "ok"),
    ]
    update = AuditEvent.objects.get(action="update")
    assert update.fields == ["organization"]
    assert KEY not in audit_text()


def test_the_wizard_records_its_creates_as_the_wizard(admin_client):
    through_models(admin_client, provider="openai", models="gpt-4o\ngpt-4o-mini")
    step(
        admin_client,
        "credentials",
        {"source": "new", "api_key": KEY, "save_as_reusable": "on", "reusable_name": "w"},
    )
    step(admin_client, "review", {})
    assert ModelDeployment.objects.count() == 2
    assert events() == [
        ("alice", "wizard", "create", "credentials.Credential", "ok"),
        ("alice", "wizard", "create", "models_registry.ModelDeployment", "ok"),
        ("alice", "wizard", "create", "models_registry.ModelDeployment", "ok"),
    ]
    assert "api_key" in AuditEvent.objects.get(object_type="credentials.Credential").fields  # the name only
    assert KEY not in audit_text()


def test_the_deployment_admin_records_updates_with_field_names(admin_client):
    deployment = ModelDeployment.objects.create(
        model_name="m", provider="openai", litellm_model="openai/m", secrets={"api_key": KEY}, masked={}
    )
    admin_client.post(
        f"/admin/models_registry/modeldeployment/{deployment.pk}/change/",
        {"model_name": "renamed", "litellm_model": "openai/m", "is_active": "on", "api_key": "",
         "extra_params": '{"rpm": 5}', "info": "{}"},
    )  # fmt: skip
    event = AuditEvent.objects.get(action="update")
    assert event.fields == ["model_name", "params.rpm"]
    assert KEY not in audit_text()
