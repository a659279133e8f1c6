"""The provider catalog is consistent: LiteLLM names, reachable required fields, conditions."""

import pytest

from credentials.catalog import AUTH_METHOD, BY_SLUG, LITELLM_PARAMS, PROVIDERS, SECRET, get_provider
from credentials.values import clean_values
from tests.fixtures import SAMPLE_VALUES

REQUIRED_SLUGS = {
    "openai", "azure", "azure_ai", "anthropic", "vertex_ai", "gemini", "bedrock", "cohere", "mistral",
    "groq", "openrouter", "together_ai", "deepseek", "xai", "fireworks_ai", "perplexity", "databricks",
    "watsonx", "huggingface", "ollama", "openai_like",
}  # fmt: skip


def test_every_provider_the_gateways_need_is_there():
    assert set(BY_SLUG) >= REQUIRED_SLUGS
    assert len(BY_SLUG) == len(PROVIDERS)  # slugs are unique


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.slug)
def test_each_provider_is_fully_described(provider):
    assert provider.label and provider.model_placeholder
    keys = [f.key for f in provider.fields]
    assert len(keys) == len(set(keys))
    for f in provider.fields:
        assert f.label
        if f.litellm:
            assert f.key in LITELLM_PARAMS, f.key
        else:
            assert f.key == AUTH_METHOD
        if f.kind == "select":
            assert f.choices and (not f.default or f.default in dict(f.choices))


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.slug)
def test_conditions_name_real_auth_methods_and_every_field_is_reachable(provider):
    auth = provider.auth_field
    methods = [c[0] for c in auth.choices] if auth else [None]
    for f in provider.fields:
        if f.show_when:
            assert auth is not None, f"{f.key} has a condition but {provider.slug} has no auth choice"
            assert set(f.show_when) <= set(methods)
        assert any(f.applies(m) for m in methods)


@pytest.mark.parametrize(
    "slug,method",
    [(p.slug, c[0]) for p in PROVIDERS for c in (p.auth_field.choices if p.auth_field else [(None,)])],
)
def test_every_auth_method_accepts_its_required_fields_and_refuses_without_them(slug, method):
    provider = get_provider(slug)
    required = [f for f in provider.active_fields(method) if f.required and f.key != AUTH_METHOD]
    full = {f.key: SAMPLE_VALUES[f.key] for f in provider.active_fields(method) if f.key in SAMPLE_VALUES}
    if method:
        full[AUTH_METHOD] = method
    cleaned = clean_values(provider, full)
    for f in required:
        store = cleaned.secrets if f.secret else cleaned.params
        assert f.key in store
    secret_keys = {f.key for f in provider.fields if f.secret}
    assert set(cleaned.secrets) <= secret_keys
    assert not set(cleaned.params) & secret_keys


def test_secret_fields_are_the_credentials_and_only_api_base_routes_them():
    for provider in PROVIDERS:
        for f in provider.fields:
            if f.key in {"api_key", "client_secret", "aws_secret_access_key", "vertex_credentials"}:
                assert f.secret
            assert f.routes_secret == (f.key == "api_base")
            if f.kind == SECRET:
                assert f.default == ""


def test_ollama_points_at_the_local_server_by_default():
    assert get_provider("ollama").field("api_base").default == "http://localhost:11434"
