"""LiteLLM config.yaml: import the shared config, all or nothing; export; the round trip."""

import io
import json
import stat

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.models import Credential
from litecreds.models import AuditEvent
from models_registry.litellm_config import ConfigInvalid, run_import
from models_registry.models import ModelDeployment
from models_registry.services import litellm_params
from tests.conftest import database_text
from tests.fixtures import LITELLM_CONFIG_TEXT, VERTEX_JSON_TEXT

pytestmark = pytest.mark.django_db

ENV = {
    "AZURE_API_KEY": "azure-key-0123456789abcdef0123",
    "OPENAI_API_KEY": "sk-openai-0123456789abcdefghij",
    "ANTHROPIC_API_KEY": "sk-ant-0123456789abcdefghijkl",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY123456",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
    "VERTEX_SERVICE_ACCOUNT_JSON": VERTEX_JSON_TEXT,
}


def params_by_deployment() -> dict:
    return {
        (d.model_name, d.litellm_model): litellm_params(d)
        for d in ModelDeployment.objects.select_related("credential")
    }


def import_shared(**kwargs):
    return run_import(LITELLM_CONFIG_TEXT, environ=ENV, **kwargs)


def test_the_shared_config_imports_with_its_environment():
    report = import_shared(actor="dave")
    assert report.created == {"credentials": 4, "deployments": 8}
    azure = Credential.objects.get(name="azure_eu")
    assert azure.provider == "azure"
    assert azure.secrets == {"api_key": ENV["AZURE_API_KEY"]}
    assert azure.params == {
        "auth_method": "api_key",
        "api_base": "https://litecreds-eu.openai.azure.com/",
        "api_version": "2024-06-01",
    }
    assert azure.description == "Production Azure OpenAI, EU region"
    vertex = Credential.objects.get(name="vertex_main")
    assert vertex.secrets["vertex_credentials"] == json.loads(VERTEX_JSON_TEXT)
    assert vertex.params["vertex_project"] == "litecreds-demo-481516"
    assert Credential.objects.get(name="aws_bedrock").params["auth_method"] == "access_keys"

    params = params_by_deployment()
    assert params[("gpt-4o", "azure/gpt-4o-eu-fallback")]["rpm"] == 600
    assert params[("text-embedding-3-small", "azure/embeddings-small")]["api_version"] == "2024-10-21"
    assert params[("gpt-4o-mini", "openai/gpt-4o-mini")] == {
        "api_key": ENV["OPENAI_API_KEY"],
        "model": "openai/gpt-4o-mini",
    }
    assert params[("llama3", "ollama/llama3")] == {
        "api_base": "http://localhost:11434",
        "model": "ollama/llama3",
    }
    prod = ModelDeployment.objects.get(litellm_model="azure/gpt-4o-eu-prod")
    assert prod.model_info == {"mode": "chat", "base_model": "azure/gpt-4o"}
    assert prod.credential == azure
    for secret in ENV.values():
        assert secret.splitlines()[0] not in database_text() or secret == VERTEX_JSON_TEXT
    assert json.loads(VERTEX_JSON_TEXT)["private_key"].splitlines()[1] not in database_text()
    assert ENV["AZURE_API_KEY"] not in database_text()
    event = AuditEvent.objects.get(action="import")
    assert event.actor == "dave" and "credentials: 4 created" in event.message


def test_every_missing_environment_variable_is_named_at_once():
    env = {k: v for k, v in ENV.items() if k not in ("AZURE_API_KEY", "AWS_SECRET_ACCESS_KEY")}
    with pytest.raises(ConfigInvalid) as caught:
        run_import(LITELLM_CONFIG_TEXT, environ=env)
    message = str(caught.value)
    assert "AZURE_API_KEY (for credential_list[0].credential_values.api_key)" in message
    assert "AWS_SECRET_ACCESS_KEY" in message
    assert not Credential.objects.exists()


def with_model(entry: dict) -> str:
    config = yaml.safe_load(LITELLM_CONFIG_TEXT)
    config["model_list"].append(entry)
    return yaml.safe_dump(config)


@pytest.mark.parametrize(
    "text,message",
    [
        ("model_list: [unclosed", "not valid YAML at line 1"),
        ("- just\n- a list\n", "must be a mapping with model_list, not list"),
        ("credential_list: []\n", "model_list: missing"),
        ("model_list: {a: 1}\n", "model_list: must be a list"),
        (
            with_model({"model_name": "broken", "litellm_params": {"api_key": "x"}}),
            "model_list[9]: needs litellm_params.model",
        ),
        (
            with_model(
                {
                    "model_name": "m",
                    "litellm_params": {"model": "openai/m", "litellm_credential_name": "ghost"},
                }
            ),
            "litellm_credential_name 'ghost' is not defined",
        ),
        (with_model({"model_name": "m", "litellm_params": {"model": "nope/m"}}), "unknown provider 'nope'"),
        (
            with_model({"model_name": "m", "litellm_params": {"model": "openai/m"}}),
            "API key (api_key): is required",
        ),
        (
            LITELLM_CONFIG_TEXT + "\n  - credential_name: azure_eu\n    credential_values: {api_key: x}\n"
            "    credential_info: {custom_llm_provider: azure}\n",
            "credential_name is defined twice",
        ),
    ],
)
def test_a_bad_config_is_refused_naming_the_entry_and_nothing_is_written(text, message):
    with pytest.raises(ConfigInvalid) as caught:
        run_import(text, environ=ENV)
    assert message in "; ".join(caught.value.messages)
    assert not Credential.objects.exists()
    assert not ModelDeployment.objects.exists()


def test_dry_run_reports_the_counts_and_writes_nothing():
    out = io.StringIO()
    path = "tests/fixtures/litellm_config.yaml"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENV.items():
            patch.setenv(name, value)
        call_command("litellm", "import", path, "--dry-run", stdout=out)
    assert "Dry run, nothing written: credentials: 4 created" in out.getvalue()
    assert not Credential.objects.exists() and not ModelDeployment.objects.exists()


def test_conflicts_fail_skip_or_update():
    import_shared()
    with pytest.raises(ConfigInvalid, match="a credential with this name exists"):
        import_shared()
    skipped = import_shared(on_conflict="skip")
    assert skipped.skipped == {"credentials": 4, "deployments": 8}
    changed = dict(ENV, AZURE_API_KEY="azure-key-rotated-000000000000")
    updated = run_import(LITELLM_CONFIG_TEXT, environ=changed, on_conflict="update")
    assert updated.updated == {"credentials": 4, "deployments": 8}
    assert Credential.objects.get(name="azure_eu").secrets["api_key"] == "azure-key-rotated-000000000000"
    assert Credential.objects.count() == 4 and ModelDeployment.objects.count() == 8


def test_unknown_params_are_kept_and_secret_looking_ones_sealed():
    text = with_model(
        {
            "model_name": "custom",
            "litellm_params": {
                "model": "openai/custom",
                "api_key": "sk-x-0123456789abcdef",
                "weird_flag": True,
                "extra_headers_token": "tok-0123456789abcdef",
                "max_retries": 3,
            },
        }
    )
    run_import(text, environ=ENV)
    deployment = ModelDeployment.objects.get(model_name="custom")
    assert deployment.params == {"weird_flag": True, "max_retries": 3}
    assert deployment.secrets == {
        "api_key": "sk-x-0123456789abcdef",
        "extra_headers_token": "tok-0123456789abcdef",
    }
    assert "tok-0123456789abcdef" not in database_text()


# --- export ------------------------------------------------------------------------------------------


def export(*args) -> str:
    out = io.StringIO()
    call_command("litellm", "export", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_export_is_the_litellm_format_field_by_field():
    import_shared()
    ModelDeployment.objects.filter(model_name="llama3").update(is_active=False)
    config = yaml.safe_load(export())
    credentials = {c["credential_name"]: c for c in config["credential_list"]}
    assert credentials["azure_eu"] == {
        "credential_name": "azure_eu",
        "credential_values": {
            "api_base": "https://litecreds-eu.openai.azure.com/",
            "api_version": "2024-06-01",
            "api_key": ENV["AZURE_API_KEY"],
        },
        "credential_info": {
            "custom_llm_provider": "azure",
            "description": "Production Azure OpenAI, EU region",
        },
    }
    assert json.loads(credentials["vertex_main"]["credential_values"]["vertex_credentials"]) == json.loads(
        VERTEX_JSON_TEXT
    )
    models = {(m["model_name"], m["litellm_params"]["model"]): m for m in config["model_list"]}
    assert ("llama3", "ollama/llama3") not in models  # inactive deployments stay out
    assert models[("gpt-4o", "azure/gpt-4o-eu-fallback")]["litellm_params"] == {
        "model": "azure/gpt-4o-eu-fallback",
        "litellm_credential_name": "azure_eu",
        "rpm": 600,
    }
    assert models[("gpt-4o-mini", "openai/gpt-4o-mini")]["litellm_params"]["api_key"] == ENV["OPENAI_API_KEY"]
    assert models[("gpt-4o", "azure/gpt-4o-eu-prod")]["model_info"] == {
        "mode": "chat",
        "base_model": "azure/gpt-4o",
    }
    assert all("auth_method" not in json.dumps(c) for c in config["credential_list"])


def test_export_then_import_into_an_empty_database_round_trips(tmp_path):
    import_shared()
    before_params = params_by_deployment()
    before_credentials = sorted(Credential.objects.values_list("name", "provider", "params", "info"))
    before_secrets = {c.name: c.secrets for c in Credential.objects.all()}
    output = tmp_path / "config.yaml"
    export("--output", str(output))
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    ModelDeployment.objects.all().delete()
    Credential.objects.all().delete()

    run_import(output.read_text(), environ={})
    assert params_by_deployment() == before_params
    assert sorted(Credential.objects.values_list("name", "provider", "params", "info")) == before_credentials
    assert {c.name: c.secrets for c in Credential.objects.all()} == before_secrets


def test_export_with_env_references_and_a_private_env_file(tmp_path):
    from dotenv import dotenv_values

    import_shared()
    output = tmp_path / "config.yaml"
    export("--output", str(output), "--secrets", "env")
    text = output.read_text()
    for secret in ENV.values():
        assert secret.splitlines()[0][:30] not in text or secret == VERTEX_JSON_TEXT
    assert ENV["AZURE_API_KEY"] not in text
    config = yaml.safe_load(text)
    azure = next(c for c in config["credential_list"] if c["credential_name"] == "azure_eu")
    assert azure["credential_values"]["api_key"] == "os.environ/LITECREDS_AZURE_EU_API_KEY"
    env_file = tmp_path / "config.yaml.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dotenv_values(env_file)
    assert values["LITECREDS_AZURE_EU_API_KEY"] == ENV["AZURE_API_KEY"]
    assert json.loads(values["LITECREDS_VERTEX_MAIN_VERTEX_CREDENTIALS"]) == json.loads(VERTEX_JSON_TEXT)

    before = params_by_deployment()
    ModelDeployment.objects.all().delete()
    Credential.objects.all().delete()
    run_import(text, environ=values)
    assert params_by_deployment() == before


def test_env_export_needs_an_output_file():
    with pytest.raises(CommandError, match="--secrets env needs --output"):
        export("--secrets", "env")


def test_export_uses_a_constant_number_of_queries():
    credential = Credential.objects.create(name="c", provider="openai", secrets={"api_key": "k" * 20})

    def queries(n: int) -> int:
        ModelDeployment.objects.bulk_create(
            ModelDeployment(
                model_name=f"m{i}", provider="openai", litellm_model=f"openai/m{i}", credential=credential
            )
            for i in range(n)
        )
        with CaptureQueriesContext(connection) as captured:
            export()
        return len(captured)

    assert queries(10) == queries(1000)


def test_import_from_the_command_line_reports_and_refuses(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_list: 5\n")
    with pytest.raises(CommandError, match="model_list: must be a list"):
        call_command("litellm", "import", str(bad), stdout=io.StringIO())
    with pytest.raises(CommandError, match="cannot read it"):
        call_command("litellm", "import", str(tmp_path / "missing.yaml"), stdout=io.StringIO())
