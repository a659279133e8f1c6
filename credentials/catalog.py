"""The provider catalog: one declaration per provider, read by forms, admin, wizard, commands
and the LiteLLM export alike.

A provider's ``slug`` is LiteLLM's provider prefix (``azure`` in ``azure/gpt-4o``); a field's
``key`` is the LiteLLM parameter name, except for ``auth_method``, a choice that only decides
which of the other fields apply (``litellm=False``: it is never exported).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT, SECRET, URL, SELECT, JSON_DOCUMENT = "text", "secret", "url", "select", "json"
AUTH_METHOD = "auth_method"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str = TEXT
    required: bool = False
    help: str = ""
    default: str = ""
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    show_when: tuple[str, ...] = ()  # auth methods under which the field applies; () = always
    litellm: bool = True  # False: a form-only choice, never sent to LiteLLM
    routes_secret: bool = False  # changing it sends the stored secrets elsewhere

    @property
    def secret(self) -> bool:
        return self.kind in (SECRET, JSON_DOCUMENT)

    def applies(self, auth_method: str | None) -> bool:
        return not self.show_when or auth_method in self.show_when


@dataclass(frozen=True)
class Provider:
    slug: str
    label: str
    model_placeholder: str
    fields: tuple[Field, ...]
    docs: str = ""
    aliases: tuple[str, ...] = field(default=())

    @property
    def auth_field(self) -> Field | None:
        return next((f for f in self.fields if f.key == AUTH_METHOD), None)

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def default_auth_method(self) -> str | None:
        auth = self.auth_field
        return (auth.default or auth.choices[0][0]) if auth else None

    def active_fields(self, auth_method: str | None) -> list[Field]:
        return [f for f in self.fields if f.applies(auth_method)]

    def secret_fields(self) -> list[Field]:
        return [f for f in self.fields if f.secret]


def api_key(required: bool = True, help: str = "", **extra) -> Field:
    return Field(
        "api_key",
        "API key",
        SECRET,
        required=required,
        help=help or "Stored encrypted; never shown again.",
        **extra,
    )


def api_base(required: bool = False, default: str = "", placeholder: str = "", **extra) -> Field:
    return Field(
        "api_base",
        "API base URL",
        URL,
        required=required,
        default=default,
        placeholder=placeholder or default,
        help="Where requests (and the key) are sent.",
        routes_secret=True,
        **extra,
    )


def key_only(slug: str, label: str, model: str, base: str) -> Provider:
    """A provider that needs an API key and optionally another base URL."""
    return Provider(slug, label, model, (api_key(), api_base(placeholder=base)))


AZURE_KEY, AZURE_ENTRA = "api_key", "entra_id"
VERTEX_SA, VERTEX_ADC = "service_account", "adc"
AWS_KEYS, AWS_ROLE, AWS_CHAIN = "access_keys", "role", "default_chain"

PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "openai",
        "OpenAI",
        "gpt-4o",
        (
            api_key(),
            api_base(placeholder="https://api.openai.com/v1"),
            Field("organization", "Organization ID", placeholder="org-...", help="Optional."),
        ),
    ),
    Provider(
        "azure",
        "Azure OpenAI",
        "my-gpt-4o-deployment",
        (
            Field(
                AUTH_METHOD,
                "Authentication",
                SELECT,
                required=True,
                default=AZURE_KEY,
                choices=((AZURE_KEY, "API key"), (AZURE_ENTRA, "Entra ID client secret")),
                litellm=False,
            ),
            api_base(required=True, placeholder="https://my-resource.openai.azure.com/"),
            Field("api_version", "API version", required=True, default="2024-10-21"),
            api_key(show_when=(AZURE_KEY,)),
            Field("tenant_id", "Tenant ID", required=True, show_when=(AZURE_ENTRA,)),
            Field("client_id", "Client ID", required=True, show_when=(AZURE_ENTRA,)),
            Field(
                "client_secret",
                "Client secret",
                SECRET,
                required=True,
                show_when=(AZURE_ENTRA,),
                help="The app registration's secret; stored encrypted.",
            ),
        ),
    ),
    Provider(
        "azure_ai",
        "Azure AI Foundry",
        "Meta-Llama-3.1-70B-Instruct",
        (api_key(), api_base(required=True, placeholder="https://my-endpoint.services.ai.azure.com/models")),
    ),
    key_only("anthropic", "Anthropic", "claude-3-5-sonnet-20240620", "https://api.anthropic.com"),
    Provider(
        "vertex_ai",
        "Google Vertex AI",
        "gemini-1.5-pro",
        (
            Field(
                AUTH_METHOD,
                "Authentication",
                SELECT,
                required=True,
                default=VERTEX_SA,
                choices=(
                    (VERTEX_SA, "Service-account JSON"),
                    (VERTEX_ADC, "Application default credentials"),
                ),
                litellm=False,
            ),
            Field(
                "vertex_project",
                "Project ID",
                required=True,
                placeholder="my-gcp-project",
                help="Taken from the service-account JSON when left empty.",
            ),
            Field("vertex_location", "Location", required=True, default="us-central1"),
            Field(
                "vertex_credentials",
                "Service-account JSON",
                JSON_DOCUMENT,
                required=True,
                show_when=(VERTEX_SA,),
                help="Upload the key file or paste its JSON (base64 accepted). Stored encrypted.",
            ),
        ),
    ),
    key_only(
        "gemini", "Google AI Studio (Gemini)", "gemini-1.5-flash", "https://generativelanguage.googleapis.com"
    ),
    Provider(
        "bedrock",
        "AWS Bedrock",
        "anthropic.claude-3-haiku-20240307-v1:0",
        (
            Field(
                AUTH_METHOD,
                "Authentication",
                SELECT,
                required=True,
                default=AWS_KEYS,
                choices=(
                    (AWS_KEYS, "Access key pair"),
                    (AWS_ROLE, "Assume a role"),
                    (AWS_CHAIN, "Default AWS credential chain"),
                ),
                litellm=False,
            ),
            Field("aws_region_name", "Region", required=True, default="us-east-1"),
            Field(
                "aws_access_key_id",
                "Access key ID",
                SECRET,
                required=True,
                show_when=(AWS_KEYS,),
                placeholder="AKIA...",
            ),
            Field("aws_secret_access_key", "Secret access key", SECRET, required=True, show_when=(AWS_KEYS,)),
            Field(
                "aws_session_token",
                "Session token",
                SECRET,
                show_when=(AWS_KEYS,),
                help="Only for temporary credentials.",
            ),
            Field(
                "aws_role_name",
                "Role ARN",
                required=True,
                show_when=(AWS_ROLE,),
                placeholder="arn:aws:iam::123456789012:role/bedrock",
            ),
            Field("aws_session_name", "Session name", show_when=(AWS_ROLE,), default="litecreds"),
        ),
    ),
    key_only("cohere", "Cohere", "command-r-plus", "https://api.cohere.ai"),
    key_only("mistral", "Mistral AI", "mistral-large-latest", "https://api.mistral.ai/v1"),
    key_only("groq", "Groq", "llama-3.1-70b-versatile", "https://api.groq.com/openai/v1"),
    key_only("openrouter", "OpenRouter", "anthropic/claude-3.5-sonnet", "https://openrouter.ai/api/v1"),
    key_only("together_ai", "Together AI", "meta-llama/Llama-3-70b-chat-hf", "https://api.together.xyz/v1"),
    key_only("deepseek", "DeepSeek", "deepseek-chat", "https://api.deepseek.com"),
    key_only("xai", "xAI", "grok-2-latest", "https://api.x.ai/v1"),
    key_only(
        "fireworks_ai",
        "Fireworks AI",
        "accounts/fireworks/models/llama-v3p1-70b-instruct",
        "https://api.fireworks.ai/inference/v1",
    ),
    key_only("perplexity", "Perplexity", "llama-3.1-sonar-large-128k-online", "https://api.perplexity.ai"),
    Provider(
        "databricks",
        "Databricks",
        "databricks-meta-llama-3-1-70b-instruct",
        (
            api_key(),
            api_base(
                required=True, placeholder="https://my-workspace.cloud.databricks.com/serving-endpoints"
            ),
        ),
    ),
    Provider(
        "watsonx",
        "IBM watsonx.ai",
        "ibm/granite-13b-chat-v2",
        (
            api_key(),
            api_base(required=True, default="https://us-south.ml.cloud.ibm.com"),
            Field("project_id", "Project ID", required=True),
        ),
    ),
    key_only(
        "huggingface",
        "Hugging Face",
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
        "https://api-inference.huggingface.co",
    ),
    Provider(
        "ollama",
        "Ollama",
        "llama3",
        (
            api_base(required=True, default="http://localhost:11434"),
            api_key(required=False, help="Only when a proxy in front of Ollama wants one."),
        ),
    ),
    Provider(
        "openai_like",
        "OpenAI-compatible endpoint",
        "my-model",
        (
            api_base(required=True, placeholder="https://llm.internal.example.com/v1"),
            api_key(required=False, help="Leave empty when the endpoint needs no key."),
        ),
    ),
)

BY_SLUG: dict[str, Provider] = {p.slug: p for p in PROVIDERS}

# LiteLLM parameter names the catalog may use (checked by the catalog's tests).
LITELLM_PARAMS = frozenset(
    {
        "api_key",
        "api_base",
        "api_version",
        "organization",
        "vertex_project",
        "vertex_location",
        "vertex_credentials",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region_name",
        "aws_role_name",
        "aws_session_name",
        "tenant_id",
        "client_id",
        "client_secret",
        "project_id",
    }
)


class UnknownProvider(KeyError):
    def __str__(self) -> str:
        return f"unknown provider {self.args[0]!r} (known: {', '.join(BY_SLUG)})"


def get_provider(slug: str) -> Provider:
    try:
        return BY_SLUG[slug]
    except KeyError:
        raise UnknownProvider(slug) from None


def provider_choices() -> list[tuple[str, str]]:
    return [(p.slug, p.label) for p in PROVIDERS]
