"""The Add Model wizard end to end with the Django client, and the services behind it."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile

from credentials.models import Credential
from models_registry.models import ModelDeployment
from models_registry.services import credential_from_deployment, litellm_params
from tests.conftest import database_text
from tests.fixtures import VERTEX_JSON_TEXT

pytestmark = pytest.mark.django_db

URL = "/models/add/"
PREFIX = "add_model_wizard"
AZURE_KEY = "azk-wizard-0123456789abcdef0123456789"


def step(client, name: str, data: dict | None = None, files: dict | None = None, **extra):
    payload = {f"{PREFIX}-current_step": name}
    payload.update({f"{name}-{k}": v for k, v in (data or {}).items()})
    payload.update({f"{name}-{k}": v for k, v in (files or {}).items()})
    payload.update(extra)
    return client.post(URL, payload)


def current_step(response) -> str:
    return response.context["wizard"]["steps"].current


def form_errors(response) -> str:
    form = response.context["wizard"]["form"]
    return " | ".join(f"{k}: {m}" for k, msgs in form.errors.items() for m in msgs)


def azure_new(**overrides) -> dict:
    data = {
        "source": "new",
        "auth_method": "api_key",
        "api_base": "https://litecreds-eu.openai.azure.com/",
        "api_version": "2024-06-01",
        "api_key": AZURE_KEY,
        "extra_params": '{"rpm": 600}',
        "model_info": '{"base_model": "azure/gpt-4o"}',
    }
    data.update(overrides)
    return data


def through_models(client, provider="azure", models="gpt-4o-eu-prod = gpt-4o", mode="chat"):
    assert client.get(URL).status_code == 200
    response = step(client, "provider", {"provider": provider})
    assert current_step(response) == "model", response.content.decode()[-2000:]
    response = step(client, "model", {"models": models, "mode": mode})
    assert current_step(response) == "credentials", form_errors(response)
    return response


def session_text() -> str:
    return "\n".join(s.session_data + json.dumps(s.get_decoded()) for s in Session.objects.all())


def test_the_admin_add_button_leads_to_the_wizard(admin_client):
    response = admin_client.get("/admin/models_registry/modeldeployment/add/")
    assert response.status_code == 302
    assert response["Location"] == URL


def test_new_credentials_saved_as_reusable_for_several_models(admin_client, captured_logs):
    through_models(
        admin_client, models="gpt-4o-eu-prod = gpt-4o\ngpt-4o-eu-fallback = gpt-4o\nembeddings-small"
    )
    response = step(admin_client, "credentials", azure_new(save_as_reusable="on", reusable_name="azure eu"))
    assert current_step(response) == "review", form_errors(response)
    page = response.content.decode()
    assert "gpt-4o → azure/gpt-4o-eu-prod" in page
    assert "a new reusable credential named &#x27;azure eu&#x27;" in page
    assert "api_key: ••••6789" in page
    assert AZURE_KEY not in page
    assert AZURE_KEY not in session_text()
    assert AZURE_KEY not in database_text()

    response = step(admin_client, "review", {}, add_model="Add model")
    assert response.status_code == 302
    assert response["Location"] == "/admin/models_registry/modeldeployment/"
    credential = Credential.objects.get(name="azure eu")
    assert credential.secrets == {"api_key": AZURE_KEY}
    deployments = ModelDeployment.objects.order_by("litellm_model")
    assert [(d.model_name, d.litellm_model) for d in deployments] == [
        ("embeddings-small", "azure/embeddings-small"),
        ("gpt-4o", "azure/gpt-4o-eu-fallback"),
        ("gpt-4o", "azure/gpt-4o-eu-prod"),
    ]
    for deployment in deployments:
        assert deployment.credential == credential
        assert deployment.secrets == {}
        assert deployment.model_info == {"base_model": "azure/gpt-4o", "mode": "chat"}
        assert litellm_params(deployment) == {
            "api_base": "https://litecreds-eu.openai.azure.com/",
            "api_version": "2024-06-01",
            "api_key": AZURE_KEY,
            "rpm": 600,
            "model": deployment.litellm_model,
        }
    listing = admin_client.get("/admin/models_registry/modeldeployment/").content.decode()
    assert "Added 3 model deployment(s)" in listing
    assert AZURE_KEY not in listing
    assert AZURE_KEY not in session_text()
    assert AZURE_KEY not in captured_logs()


def test_new_credentials_kept_inline_when_not_saved_as_reusable(admin_client):
    through_models(admin_client, provider="openai", models="gpt-4o-mini")
    step(admin_client, "credentials", {"source": "new", "api_key": "sk-inline-0123456789abcdefghij"})
    response = step(admin_client, "review", {})
    assert response.status_code == 302
    deployment = ModelDeployment.objects.get()
    assert deployment.credential is None
    assert deployment.secrets == {"api_key": "sk-inline-0123456789abcdefghij"}
    assert deployment.masked == {"api_key": "••••ghij"}
    assert not Credential.objects.exists()


def test_an_existing_credential_of_that_provider_only(admin_client):
    shared = Credential.objects.create(
        name="anthropic team",
        provider="anthropic",
        secrets={"api_key": "sk-ant-0123456789abcdef"},
        masked={"api_key": "••••cdef"},
    )
    Credential.objects.create(name="other provider", provider="openai", secrets={"api_key": "x" * 20})
    response = through_models(
        admin_client, provider="anthropic", models="claude-3-5-sonnet-20240620 = claude-sonnet"
    )
    page = response.content.decode()
    assert "anthropic team (api_key ••••cdef)" in page
    assert "other provider" not in page
    response = step(admin_client, "credentials", {"source": "existing", "existing": str(shared.pk)})
    assert current_step(response) == "review", form_errors(response)
    step(admin_client, "review", {})
    deployment = ModelDeployment.objects.get()
    assert deployment.credential == shared
    assert litellm_params(deployment)["api_key"] == "sk-ant-0123456789abcdef"


def test_a_credential_of_another_provider_cannot_be_forged_in(admin_client):
    other = Credential.objects.create(name="openai", provider="openai", secrets={"api_key": "x" * 20})
    through_models(admin_client, provider="anthropic", models="claude")
    response = step(admin_client, "credentials", {"source": "existing", "existing": str(other.pk)})
    assert "Select a valid choice" in form_errors(response)


def test_going_back_keeps_what_was_typed_and_entered_secrets(admin_client):
    through_models(admin_client)
    response = step(admin_client, "credentials", azure_new())
    assert current_step(response) == "review"
    response = step(admin_client, "review", {}, wizard_goto_step="credentials")
    page = response.content.decode()
    assert current_step(response) == "credentials"
    assert 'value="https://litecreds-eu.openai.azure.com/"' in page
    assert "entered — leave blank to keep" in page
    assert AZURE_KEY not in page
    response = step(admin_client, "credentials", azure_new(api_key=""))  # the key need not be typed again
    assert current_step(response) == "review", form_errors(response)
    response = step(admin_client, "review", {}, wizard_goto_step="model")
    page = response.content.decode()
    assert "gpt-4o-eu-prod = gpt-4o" in page
    response = step(admin_client, "model", {"models": "gpt-4o-eu-prod = gpt-4o", "mode": "chat"})
    response = step(admin_client, "credentials", azure_new(api_key=""))
    step(admin_client, "review", {})
    assert ModelDeployment.objects.get().litellm_model == "azure/gpt-4o-eu-prod"
    assert litellm_params(ModelDeployment.objects.get())["api_key"] == AZURE_KEY


def test_switching_the_provider_between_steps_drops_the_old_credentials(admin_client):
    through_models(admin_client)
    step(admin_client, "credentials", azure_new())
    step(admin_client, "review", {}, wizard_goto_step="provider")
    response = step(admin_client, "provider", {"provider": "openai"})
    response = step(admin_client, "model", {"models": "gpt-4o", "mode": "chat"})
    page = response.content.decode()
    assert current_step(response) == "credentials"
    assert 'name="credentials-api_version"' not in page
    assert "litecreds-eu" not in page
    response = step(admin_client, "credentials", {"source": "new", "api_key": ""})
    assert "API key (api_key): is required" in form_errors(response)
    step(admin_client, "credentials", {"source": "new", "api_key": "sk-openai-0123456789abcdefgh"})
    step(admin_client, "review", {})
    deployment = ModelDeployment.objects.get()
    assert (deployment.provider, deployment.litellm_model) == ("openai", "openai/gpt-4o")
    assert deployment.secrets == {"api_key": "sk-openai-0123456789abcdefgh"}


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("extra_params", "{rpm: 600", "Extra LiteLLM parameters: not valid JSON"),
        ("extra_params", "[1, 2]", "Extra LiteLLM parameters: must be a JSON object"),
        ("extra_params", '{"a":' * 1000 + "1" + "}" * 1000, "nested more than 32 levels deep"),
        ("extra_params", '{"model": "openai/other"}', "'model' is set from the provider model"),
        ("model_info", '{"mode": "dance"}', "model_info.mode: must be one of"),
        ("model_info", "not json", "model_info: not valid JSON"),
    ],
)
def test_invalid_advanced_json_is_refused_naming_it(admin_client, field, value, message):
    through_models(admin_client)
    response = step(admin_client, "credentials", azure_new(**{field: value}))
    assert current_step(response) == "credentials"
    assert message in form_errors(response) + response.content.decode()
    assert not ModelDeployment.objects.exists()


def test_secret_looking_extra_params_are_sealed(admin_client):
    through_models(admin_client, provider="openai", models="gpt-4o")
    step(
        admin_client,
        "credentials",
        {
            "source": "new",
            "api_key": "sk-0123456789abcdefghijk",
            "extra_params": '{"custom_token": "tok-0123456789abcdef", "rpm": 5}',
        },
    )
    step(admin_client, "review", {})
    deployment = ModelDeployment.objects.get()
    assert deployment.params == {"rpm": 5}
    assert deployment.secrets["custom_token"] == "tok-0123456789abcdef"
    assert "tok-0123456789abcdef" not in database_text()


@pytest.mark.parametrize(
    "models,message",
    [
        ("", "This field is required"),
        ("gpt 4o", "contains spaces"),
        ("gpt-4o\ngpt-4o", "is listed twice"),
        ("\n".join(f"m{i}" for i in range(101)), "At most 100 models"),
        ("gpt-4o = bad name", "contains spaces"),
    ],
)
def test_bad_model_lines_are_refused(admin_client, models, message):
    step(admin_client, "provider", {"provider": "openai"})
    response = step(admin_client, "model", {"models": models, "mode": "chat"})
    assert current_step(response) == "model"
    assert message in form_errors(response)


def test_a_wildcard_serves_every_model_of_the_provider(admin_client):
    through_models(admin_client, provider="openai", models="*")
    step(admin_client, "credentials", {"source": "new", "api_key": "sk-0123456789abcdefghijk"})
    step(admin_client, "review", {})
    deployment = ModelDeployment.objects.get()
    assert (deployment.model_name, deployment.litellm_model) == ("openai/*", "openai/*")


def test_the_vertex_upload_goes_through_the_wizard_without_touching_disk_or_session(
    admin_client, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path)
    through_models(admin_client, provider="vertex_ai", models="gemini-1.5-pro")
    upload = SimpleUploadedFile("sa.json", VERTEX_JSON_TEXT.encode(), "application/json")
    response = step(
        admin_client,
        "credentials",
        {"source": "new", "auth_method": "service_account", "vertex_location": "us-central1"},
        files={"vertex_credentials__file": upload},
    )
    assert current_step(response) == "review", form_errors(response)
    key_line = json.loads(VERTEX_JSON_TEXT)["private_key"].splitlines()[1]
    assert key_line not in session_text()
    assert list(tmp_path.iterdir()) == []
    step(admin_client, "review", {})
    deployment = ModelDeployment.objects.get()
    assert deployment.secrets["vertex_credentials"] == json.loads(VERTEX_JSON_TEXT)
    assert deployment.params["vertex_project"] == "litecreds-demo-481516"


def test_forged_step_data_sends_the_user_back_and_writes_nothing(admin_client):
    admin_client.get(URL)
    response = step(admin_client, "review", {})
    assert response.status_code in (200, 302)
    assert not ModelDeployment.objects.exists()
    response = admin_client.post(URL, {f"{PREFIX}-current_step": "credentials", "credentials-source": "new"})
    assert response.status_code == 200
    assert not ModelDeployment.objects.exists()
    response = admin_client.post(URL, {"credentials-source": "new"})
    assert response.status_code == 400  # no management form: formtools refuses
    assert not ModelDeployment.objects.exists()


def staff(*perms):
    user = get_user_model().objects.create_user("bob", password="bob-password-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


def test_the_wizard_needs_add_permission(client):
    client.force_login(staff("view_modeldeployment"))
    assert client.get(URL).status_code == 403


def test_without_add_credential_the_wizard_offers_no_reusable_credential(client):
    client.force_login(staff("add_modeldeployment", "view_credential"))
    response = through_models(client, provider="openai", models="gpt-4o")
    assert "save_as_reusable" not in response.content.decode()
    step(
        client,
        "credentials",
        {
            "source": "new",
            "api_key": "sk-0123456789abcdefghijk",
            "save_as_reusable": "on",
            "reusable_name": "sneaky",
        },
    )
    step(client, "review", {})
    assert not Credential.objects.exists()
    assert ModelDeployment.objects.get().credential is None


# --- create a credential from an existing model -------------------------------------------------------


def inline_deployment() -> ModelDeployment:
    return ModelDeployment.objects.create(
        model_name="gpt-4o",
        provider="azure",
        litellm_model="azure/gpt-4o-eu",
        params={
            "auth_method": "api_key",
            "api_base": "https://eu.openai.azure.com/",
            "api_version": "2024-06-01",
            "rpm": 60,
        },
        secrets={"api_key": AZURE_KEY, "custom_token": "tok-0123456789abcdef"},
        masked={"api_key": "••••6789", "custom_token": "••••cdef"},
    )


def test_create_from_model_keeps_the_resolved_params_identical():
    deployment = inline_deployment()
    before = litellm_params(deployment)
    credential = credential_from_deployment(deployment, name="azure eu shared")
    deployment.refresh_from_db()
    assert deployment.credential == credential
    assert "api_key" not in deployment.secrets
    assert deployment.params == {"rpm": 60}
    assert credential.secrets == {"api_key": AZURE_KEY}
    assert litellm_params(deployment) == before


def test_create_from_model_through_the_admin(admin_client):
    deployment = inline_deployment()
    before = litellm_params(deployment)
    page = admin_client.get(
        f"/admin/models_registry/modeldeployment/{deployment.pk}/change/"
    ).content.decode()
    assert "Create reusable credential" in page
    assert AZURE_KEY not in page
    url = f"/admin/models_registry/modeldeployment/{deployment.pk}/create-credential/"
    response = admin_client.post(url, {"name": "azure eu"})
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert deployment.credential.name == "azure eu"
    assert litellm_params(deployment) == before


def test_create_from_model_with_a_taken_name_changes_nothing(admin_client):
    Credential.objects.create(name="Azure EU", provider="azure", secrets={})
    deployment = inline_deployment()
    before = (litellm_params(deployment), deployment.secrets)
    response = admin_client.post(
        f"/admin/models_registry/modeldeployment/{deployment.pk}/create-credential/", {"name": "azure eu"}
    )
    assert "exists already" in response.content.decode()
    deployment.refresh_from_db()
    assert (litellm_params(deployment), deployment.secrets) == before
    assert deployment.credential is None
    assert Credential.objects.count() == 1


def test_going_back_keeps_what_was_typed_on_the_step_left(admin_client):
    through_models(admin_client, provider="openai", models="gpt-4o")
    typed = {"source": "new", "api_key": "sk-typed-0123456789abcdefgh", "extra_params": '{"rpm": 7}'}
    response = step(admin_client, "credentials", typed, wizard_goto_step="model")
    assert current_step(response) == "model"
    response = step(admin_client, "model", {"models": "gpt-4o", "mode": "chat"})
    page = response.content.decode()
    assert current_step(response) == "credentials"
    assert "entered — leave blank to keep" in page
    assert "&quot;rpm&quot;: 7" in page
    assert "sk-typed-0123456789abcdefgh" not in page
    step(admin_client, "credentials", {"source": "new", "api_key": "", "extra_params": '{"rpm": 7}'})
    step(admin_client, "review", {})
    deployment = ModelDeployment.objects.get()
    assert litellm_params(deployment) == {
        "api_key": "sk-typed-0123456789abcdefgh",
        "rpm": 7,
        "model": "openai/gpt-4o",
    }
