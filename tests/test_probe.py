"""Test connection against a loopback HTTPS server that checks authentication as each provider."""

import json

import pytest
from cryptography.hazmat.primitives import serialization

from credentials.models import Credential
from credentials.probe import probe_credential, probe_values
from litecreds.models import AuditEvent
from tests.conftest import database_text
from tests.fixtures import VERTEX_JSON_TEXT
from tests.provider_server import ProviderServer

KEY = "sk-probe-0123456789abcdefghijklmnop"
VERTEX = json.loads(VERTEX_JSON_TEXT)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ProviderServer(tmp_path_factory.mktemp("providers"))
    yield srv
    srv.close()


@pytest.fixture
def providers(server, settings):
    settings.LITECREDS_PROBE_CA_BUNDLE = str(server.cert)
    settings.LITECREDS_PROBE_TIMEOUT = 2
    server.requests.clear()
    return server


def vertex_account(server) -> dict:
    account = dict(VERTEX, token_uri=f"{server.url}/google/token")
    private = serialization.load_pem_private_key(VERTEX["private_key"].encode(), password=None)
    server.expected.google_public_key = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server.expected.google_client_email = VERTEX["client_email"]
    return account


@pytest.mark.parametrize(
    "slug", ["openai", "groq", "mistral", "together_ai", "deepseek", "xai", "openrouter", "openai_like"]
)
def test_openai_style_apis_list_models_with_a_bearer_token(providers, slug):
    providers.expected.bearer = {f"/{slug}/": KEY}
    result = probe_values(slug, {"api_key": KEY, "api_base": f"{providers.url}/{slug}/v1"})
    assert result.ok, result.message
    assert "2 listed" in result.message
    assert providers.requests[-1]["path"] == f"/{slug}/v1/models"
    bad = probe_values(
        slug, {"api_key": "sk-wrong-0123456789abcdef", "api_base": f"{providers.url}/{slug}/v1"}
    )
    assert not bad.ok
    assert "authentication failed (HTTP 401)" in bad.message
    assert "sk-wrong-0123456789abcdef" not in bad.message  # the provider echoed it; it is blanked
    assert "0123456789" not in bad.message


def test_anthropic_uses_its_key_header_and_version(providers):
    providers.expected.anthropic_key = KEY
    assert probe_values("anthropic", {"api_key": KEY, "api_base": f"{providers.url}/anthropic"}).ok
    assert providers.requests[-1]["headers"]["anthropic-version"] == "2023-06-01"
    bad = probe_values("anthropic", {"api_key": "nope-" + KEY, "api_base": f"{providers.url}/anthropic"})
    assert bad.message == "Anthropic: models: authentication failed (HTTP 401): invalid x-api-key"


def test_gemini_sends_its_key_in_a_header_not_the_url(providers):
    providers.expected.gemini_key = KEY
    assert probe_values("gemini", {"api_key": KEY, "api_base": f"{providers.url}/gemini"}).ok
    assert KEY not in providers.requests[-1]["query"]
    bad = probe_values("gemini", {"api_key": "wrong-key-0000000000", "api_base": f"{providers.url}/gemini"})
    assert "API key not valid" in bad.message


def test_azure_sends_the_api_key_header_and_the_api_version(providers):
    providers.expected.azure_key = KEY
    values = {
        "auth_method": "api_key",
        "api_key": KEY,
        "api_base": f"{providers.url}/azure/",
        "api_version": "2024-06-01",
    }
    result = probe_values("azure", values)
    assert result.ok, result.message
    assert providers.requests[-1]["query"] == "api-version=2024-06-01"
    bad = probe_values("azure", {**values, "api_key": "bad-key-00000000000000"})
    assert "Access denied due to invalid subscription key" in bad.message


def test_azure_entra_id_exchanges_the_client_secret_for_a_token(providers, settings):
    settings.LITECREDS_AZURE_AUTHORITY = f"{providers.url}/entra"
    providers.expected.entra = ("tenant-1", "client-1", "entra-secret-0123456789")
    values = {
        "auth_method": "entra_id",
        "tenant_id": "tenant-1",
        "client_id": "client-1",
        "client_secret": "entra-secret-0123456789",
        "api_base": f"{providers.url}/azure",
        "api_version": "2024-06-01",
    }
    assert probe_values("azure", values).ok
    bad = probe_values("azure", {**values, "client_secret": "wrong-secret-0123456789"})
    assert "Entra ID token: authentication failed (HTTP 401)" in bad.message


def test_ollama_lists_its_tags(providers):
    result = probe_values("ollama", {"api_base": f"{providers.url}/ollama"})
    assert result.ok and "1 listed" in result.message


def test_vertex_signs_an_assertion_that_the_token_endpoint_verifies(providers, settings):
    settings.LITECREDS_VERTEX_API_BASE = f"{providers.url}/vertex"
    providers.expected.vertex_models = ("gemini-1.5-pro",)
    account = vertex_account(providers)
    values = {
        "vertex_credentials": account,
        "vertex_project": "litecreds-demo-481516",
        "vertex_location": "europe-west4",
    }
    result = probe_values("vertex_ai", values)
    assert result.ok, result.message
    assert VERTEX["client_email"] in result.message
    assert providers.requests[-2]["path"] == "/google/token"
    assert (
        providers.requests[-1]["path"]
        == "/vertex/v1/projects/litecreds-demo-481516/locations/europe-west4/endpoints"
    )
    assert probe_values("vertex_ai", values, model="gemini-1.5-pro").ok
    unknown = probe_values("vertex_ai", values, model="gemini-9")
    assert "not found" in unknown.message and "Publisher model not found" in unknown.message


def test_vertex_with_another_key_is_refused_by_the_signature_check(providers, settings):
    from cryptography.hazmat.primitives.asymmetric import rsa

    settings.LITECREDS_VERTEX_API_BASE = f"{providers.url}/vertex"
    account = vertex_account(providers)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    result = probe_values("vertex_ai", {"vertex_credentials": account, "vertex_location": "us-central1"})
    assert not result.ok
    assert "Invalid JWT Signature" in result.message
    assert "PRIVATE KEY" not in result.message


def test_bedrock_signs_with_sigv4_that_the_endpoint_recomputes(providers, settings):
    settings.LITECREDS_BEDROCK_ENDPOINT = f"{providers.url}/bedrock"
    providers.expected.aws = ("AKIAEXAMPLEKEY123456", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-1")
    values = {
        "auth_method": "access_keys",
        "aws_access_key_id": "AKIAEXAMPLEKEY123456",
        "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_region_name": "eu-west-1",
    }
    result = probe_values("bedrock", values)
    assert result.ok, result.message
    assert "eu-west-1" in result.message
    assert "AWS4-HMAC-SHA256" in providers.requests[-1]["headers"]["Authorization"]
    bad = probe_values(
        "bedrock", {**values, "aws_secret_access_key": "wJalrXUtnFEMI/WRONG/bPxRfiCYEXAMPLEKEY"}
    )
    assert "signature we calculated does not match" in bad.message
    assert "WRONG" not in bad.message
    wrong_region = probe_values("bedrock", {**values, "aws_region_name": "us-east-1"})
    assert not wrong_region.ok


def test_watsonx_databricks_and_azure_ai(providers, settings):
    settings.LITECREDS_IBM_IAM_URL = f"{providers.url}/iam"
    providers.expected.ibm_key = KEY
    assert probe_values("watsonx", {"api_key": KEY, "api_base": f"{providers.url}/wx", "project_id": "p"}).ok
    assert "could not be found" in probe_values("watsonx", {"api_key": "x" * 20}).message
    providers.expected.bearer = {"databricks": KEY}
    assert probe_values(
        "databricks", {"api_key": KEY, "api_base": f"{providers.url}/databricks/serving-endpoints"}
    ).ok
    providers.expected.azure_ai_key = KEY
    assert probe_values("azure_ai", {"api_key": KEY, "api_base": f"{providers.url}/azure_ai/models"}).ok


@pytest.mark.parametrize(
    "base,expected",
    [
        ("http://169.254.169.254/latest", "refused: 169.254.169.254 is a link-local address"),
        ("http://[fe80::1]/v1", "is a link-local address"),
        ("https://no-such-host.invalid/v1", "host not found: no-such-host.invalid"),
        ("http://127.0.0.1:1/v1", "cannot connect to 127.0.0.1:1"),
    ],
)
def test_unreachable_and_forbidden_destinations_are_reported_in_one_line(providers, base, expected):
    result = probe_values("openai", {"api_key": KEY, "api_base": base})
    assert not result.ok
    assert expected in result.message
    assert "\n" not in result.message


def test_a_slow_provider_times_out_quickly(providers, settings):
    settings.LITECREDS_PROBE_TIMEOUT = 0.5
    result = probe_values("openai", {"api_key": KEY, "api_base": f"{providers.url}/slow"})
    assert result.message == "OpenAI: timed out after 0.5s connecting to " + providers.url.removeprefix(
        "https://"
    )


def test_an_untrusted_certificate_is_refused(providers, settings):
    settings.LITECREDS_PROBE_CA_BUNDLE = None
    result = probe_values("ollama", {"api_base": f"{providers.url}/ollama"})
    assert "TLS certificate not trusted" in result.message


@pytest.mark.django_db
def test_a_failed_probe_of_a_stored_credential_changes_nothing(providers):
    credential = Credential.objects.create(
        name="openai",
        provider="openai",
        params={"api_base": f"{providers.url}/openai/v1"},
        secrets={"api_key": KEY},
    )
    providers.expected.bearer = {"/openai/": "another-key-000000000000"}
    audit = ("litecreds_auditevent",)
    before = database_text(skip_encrypted=False, skip_tables=audit)
    result = probe_credential(credential, actor="carol")
    assert not result.ok
    assert KEY not in result.message
    assert database_text(skip_encrypted=False, skip_tables=audit) == before
    providers.expected.bearer = {"/openai/": KEY}
    assert probe_credential(credential, actor="carol").ok
    assert database_text(skip_encrypted=False, skip_tables=audit) == before
    events = list(AuditEvent.objects.order_by("id").values_list("actor", "action", "object_id", "outcome"))
    assert events == [
        ("carol", "test", str(credential.pk), "failed"),
        ("carol", "test", str(credential.pk), "ok"),
    ]
    assert KEY not in database_text()


def test_a_host_name_is_resolved_once_and_pinned_with_its_own_tls_name(providers, monkeypatch):
    import socket as socket_module

    lookups = []
    real = socket_module.getaddrinfo

    def counting(host, *args, **kwargs):
        lookups.append(host)
        return real("127.0.0.1", *args, **kwargs) if host == "localhost" else real(host, *args, **kwargs)

    monkeypatch.setattr(socket_module, "getaddrinfo", counting)
    providers.expected.bearer = {"/openai/": KEY}
    result = probe_values(
        "openai", {"api_key": KEY, "api_base": f"https://localhost:{providers.port}/openai/v1"}
    )
    assert result.ok, result.message  # the certificate was checked against "localhost"
    names = [h for h in lookups if not h.replace(".", "").isdigit()]
    assert names == ["localhost"]  # looked up once, by the check; the connection used its address
    headers = {k.lower(): v for k, v in providers.requests[-1]["headers"].items()}
    assert headers["host"] == f"localhost:{providers.port}"


def test_a_name_that_resolves_to_a_metadata_address_is_refused(providers, monkeypatch):
    import socket as socket_module

    real = socket_module.getaddrinfo
    monkeypatch.setattr(
        socket_module,
        "getaddrinfo",
        lambda host, *a, **k: (
            real("169.254.169.254", *a, **k) if host == "rebind.example" else real(host, *a, **k)
        ),
    )
    result = probe_values("openai", {"api_key": KEY, "api_base": "http://rebind.example/v1"})
    assert "refused: rebind.example is a link-local address (169.254.169.254)" in result.message
