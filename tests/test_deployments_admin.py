"""The deployments admin: a list that never decrypts, inline secrets with the credential rules,
resolved parameters masked, and Test connection from the admin and from the wizard."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.models import Credential
from models_registry.models import ModelDeployment
from models_registry.services import litellm_params
from tests.provider_server import ProviderServer
from tests.test_wizard import step, through_models

pytestmark = pytest.mark.django_db

LIST = "/admin/models_registry/modeldeployment/"
KEY = "sk-deploy-0123456789abcdefghijklmn"


def change_url(deployment) -> str:
    return f"{LIST}{deployment.pk}/change/"


def shared_credential(name="openai shared", key=KEY, **params) -> Credential:
    return Credential.objects.create(
        name=name,
        provider="openai",
        secrets={"api_key": key},
        masked={"api_key": "••••" + key[-4:]},
        params=params,
    )


def inline_openai(**params) -> ModelDeployment:
    return ModelDeployment.objects.create(
        model_name="gpt-4o-mini",
        provider="openai",
        litellm_model="openai/gpt-4o-mini",
        params=params,
        secrets={"api_key": KEY},
        masked={"api_key": "••••klmn"},
        model_info={"mode": "chat"},
    )


def deployment_form(deployment, **overrides) -> dict:
    data = {
        "model_name": deployment.model_name,
        "litellm_model": deployment.litellm_model,
        "credential": str(deployment.credential_id or ""),
        "is_active": "on",
        "api_key": "",
        "api_base": deployment.params.get("api_base", ""),
        "organization": "",
        "extra_params": "{}",
        "info": '{"mode": "chat"}',
    }
    data.update(overrides)
    return data


def test_the_list_shows_the_columns_with_constant_queries_and_no_decryption(admin_client, settings):
    def queries_for(n: int) -> int:
        credential = shared_credential(name=f"c-{uuid.uuid4().hex[:6]}")
        ModelDeployment.objects.bulk_create(
            ModelDeployment(
                model_name=f"m{i}", provider="openai", litellm_model=f"openai/m{i}", credential=credential,
                model_info={"mode": "embedding"}, secrets={"api_key": KEY},
            )
            for i in range(n)
        )  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(LIST)
        assert response.status_code == 200
        return len(captured)

    assert queries_for(10) == queries_for(990)
    assert ModelDeployment.objects.count() == 1000
    settings.LITECREDS_MASTER_KEY = "a-key-that-opens-nothing-stored-here-0123456789"
    page = admin_client.get(LIST).content.decode()
    assert "openai/m1" in page and "embedding" in page
    assert KEY not in page


def test_filters_by_provider_credential_and_mode_and_search(admin_client):
    credential = shared_credential()
    ModelDeployment.objects.create(
        model_name="embed", provider="openai", litellm_model="openai/text-embedding-3-small",
        credential=credential, model_info={"mode": "embedding"},
    )  # fmt: skip
    ModelDeployment.objects.create(
        model_name="claude",
        provider="anthropic",
        litellm_model="anthropic/claude",
        model_info={"mode": "chat"},
    )
    assert "anthropic/claude" not in admin_client.get(LIST + "?mode=embedding").content.decode()
    assert "text-embedding-3-small" not in admin_client.get(LIST + "?provider=anthropic").content.decode()
    html = admin_client.get(LIST + f"?credential={credential.pk}").content.decode()
    assert "text-embedding-3-small" in html and "anthropic/claude" not in html
    assert "anthropic/claude" in admin_client.get(LIST + "?q=claude").content.decode()
    html = admin_client.get(LIST + "?credential=inline").content.decode()
    assert "anthropic/claude" in html and "text-embedding-3-small" not in html


def test_the_change_page_masks_the_resolved_parameters(admin_client):
    deployment = inline_openai(rpm=60)
    page = admin_client.get(change_url(deployment)).content.decode()
    assert "api_key: ••••klmn" in page
    assert "rpm: 60" in page
    assert "model: openai/gpt-4o-mini" in page
    assert KEY not in page


def test_inline_secrets_follow_the_credential_rules(admin_client):
    deployment = inline_openai(api_base="https://api.openai.com/v1")
    response = admin_client.post(
        change_url(deployment), deployment_form(deployment, extra_params='{"rpm": 90}')
    )
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert deployment.secrets == {"api_key": KEY}  # blank kept it
    assert deployment.params == {"api_base": "https://api.openai.com/v1", "rpm": 90}

    response = admin_client.post(
        change_url(deployment), deployment_form(deployment, api_base="https://evil.example.com/v1")
    )
    assert "enter it again: API base URL changed" in response.content.decode()
    deployment.refresh_from_db()
    assert deployment.params["api_base"] == "https://api.openai.com/v1"

    response = admin_client.post(
        change_url(deployment), deployment_form(deployment, api_key="has space inside-000")
    )
    assert "contains whitespace inside" in response.content.decode()


def test_pointing_a_deployment_at_a_shared_credential_drops_its_inline_secrets(admin_client):
    deployment = inline_openai()
    credential = shared_credential(key="sk-shared-0000000000000000000001")
    response = admin_client.post(
        change_url(deployment), deployment_form(deployment, credential=str(credential.pk))
    )
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert deployment.credential == credential
    assert deployment.secrets == {}
    assert litellm_params(deployment)["api_key"] == "sk-shared-0000000000000000000001"


def test_a_deployment_cannot_use_another_providers_credential(admin_client):
    deployment = inline_openai()
    other = Credential.objects.create(name="anthropic", provider="anthropic", secrets={"api_key": "k" * 20})
    response = admin_client.post(
        change_url(deployment), deployment_form(deployment, credential=str(other.pk))
    )
    assert response.status_code == 200
    deployment.refresh_from_db()
    assert deployment.credential is None


def test_an_empty_deployment_value_never_overrides_the_credential():
    credential = shared_credential(api_base="https://proxy.example.com/v1")
    deployment = ModelDeployment.objects.create(
        model_name="m", provider="openai", litellm_model="openai/m", credential=credential,
        params={"api_base": "", "timeout": 30}, secrets={"api_key": ""},
    )  # fmt: skip
    assert litellm_params(deployment) == {
        "api_base": "https://proxy.example.com/v1",
        "api_key": KEY,
        "timeout": 30,
        "model": "openai/m",
    }


# --- Test connection ------------------------------------------------------------------------------


@pytest.fixture
def providers(tmp_path, settings):
    server = ProviderServer(tmp_path)
    settings.LITECREDS_PROBE_CA_BUNDLE = str(server.cert)
    yield server
    server.close()


def test_test_connection_from_the_deployment_page_is_post_only_and_changes_nothing(admin_client, providers):
    deployment = inline_openai(api_base=f"{providers.url}/openai/v1")
    providers.expected.bearer = {"/openai/": KEY}
    url = f"{LIST}{deployment.pk}/test/"
    assert admin_client.get(url).status_code == 405
    before = ModelDeployment.objects.filter(pk=deployment.pk).values().get()
    response = admin_client.post(url, follow=True)
    assert "OpenAI: connection works" in response.content.decode()
    providers.expected.bearer = {"/openai/": "other-key-000000000000000"}
    response = admin_client.post(url, follow=True)
    page = response.content.decode()
    assert "authentication failed (HTTP 401)" in page
    assert KEY not in page
    assert ModelDeployment.objects.filter(pk=deployment.pk).values().get() == before


def test_test_connection_from_the_credential_page(admin_client, providers):
    credential = shared_credential(api_base=f"{providers.url}/openai/v1")
    providers.expected.bearer = {"/openai/": KEY}
    url = f"/admin/credentials/credential/{credential.pk}/test/"
    assert admin_client.get(url).status_code == 405
    assert "connection works" in admin_client.post(url, follow=True).content.decode()
    assert admin_client.post("/admin/credentials/credential/not-a-uuid/test/").status_code == 404


def test_test_connection_in_the_wizard_review_uses_the_unsaved_values(admin_client, providers):
    providers.expected.bearer = {"/openai/": KEY}
    through_models(admin_client, provider="openai", models="gpt-4o")
    response = step(
        admin_client,
        "credentials",
        {"source": "new", "api_key": KEY, "api_base": f"{providers.url}/openai/v1"},
    )
    response = step(admin_client, "review", {}, test_connection="1")
    page = response.content.decode()
    assert "OpenAI: connection works" in page
    assert response.context["wizard"]["steps"].current == "review"
    assert not ModelDeployment.objects.exists()
    assert KEY not in page
    response = step(admin_client, "review", {})
    assert ModelDeployment.objects.count() == 1
