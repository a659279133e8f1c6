"""Test connection: the provider's cheapest authenticated call, reported in one line.

A probe saves nothing and changes nothing stored. Its message never holds a secret: secret
values (and their first and last 8 characters) are blanked out of whatever the provider said.
Requests to link-local addresses (cloud metadata services, 169.254.0.0/16) are refused.

Settings: ``LITECREDS_PROBE_TIMEOUT`` (seconds), ``LITECREDS_PROBE_CA_BUNDLE`` (extra CA file),
and endpoint overrides for private deployments: ``LITECREDS_VERTEX_API_BASE``,
``LITECREDS_BEDROCK_ENDPOINT``, ``LITECREDS_AZURE_AUTHORITY``, ``LITECREDS_IBM_IAM_URL``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from credentials.catalog import AUTH_METHOD, BY_SLUG
from credentials.values import looks_secret

USER_AGENT = "litecreds-test-connection/1"


@dataclass
class ProbeResult:
    ok: bool
    message: str


class ProbeError(Exception):
    """A probe failed for a reason worth one line to the user."""


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, None) or default


# --- HTTP with the guards ----------------------------------------------------------------------


def check_destination(url: str) -> str:
    """The address to connect to: every address the host resolves to must be allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(f"not an http(s) URL: {url[:80]}")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise ProbeError(f"host not found: {host}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address.is_link_local or (
            address.version == 6 and address.ipv4_mapped and address.ipv4_mapped.is_link_local
        ):
            raise ProbeError(
                f"refused: {host} is a link-local address ({address}), such as a cloud metadata service"
            )
    return infos[0][4][0].split("%")[0]


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """``url`` aimed at the checked ``address`` (no second DNS lookup that could be rebound),
    with the Host header and the TLS server name of the original host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        return url, {}, {}  # already a literal address
    except ValueError:
        pass
    literal = f"[{address}]" if ":" in address else address
    port = f":{parts.port}" if parts.port else ""
    target = parts._replace(netloc=f"{literal}{port}").geturl()
    return target, {"host": f"{host}{port}"}, {"sni_hostname": host}


class Http:
    """Outbound requests for one probe: short timeouts, no redirects, destinations checked."""

    def __init__(self) -> None:
        timeout = float(setting("LITECREDS_PROBE_TIMEOUT", 5))
        self.timeout = timeout
        bundle = setting("LITECREDS_PROBE_CA_BUNDLE", None)
        verify: Any = ssl.create_default_context(cafile=bundle) if bundle else True
        self.client = httpx.Client(
            timeout=timeout, verify=verify, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        target, host_header, extensions = pinned(url, check_destination(url))
        kwargs["headers"] = {**(kwargs.get("headers") or {}), **host_header}
        try:
            return self.client.request(method, target, extensions=extensions, **kwargs)
        except httpx.TimeoutException:
            raise ProbeError(
                f"timed out after {self.timeout:g}s connecting to {urlsplit(url).netloc}"
            ) from None
        except httpx.ConnectError as exc:
            reason = (
                "TLS certificate not trusted"
                if "CERTIFICATE" in str(exc).upper()
                else "connection refused or unreachable"
            )
            raise ProbeError(f"cannot connect to {urlsplit(url).netloc}: {reason}") from None
        except httpx.HTTPError as exc:
            raise ProbeError(f"request to {urlsplit(url).netloc} failed: {exc.__class__.__name__}") from None


def provider_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    candidates: list[Any] = []
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            candidates += [error.get("message"), error.get("code")]
        candidates += [
            error,
            body.get("message"),
            body.get("detail"),
            body.get("error_description"),
            body.get("Message"),
        ]
    text = next((str(c) for c in candidates if isinstance(c, str) and c.strip()), None)
    if text is None:
        text = response.text[:200] if response.text else ""
    return " ".join(text.split())[:200]


def expect_ok(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code < 300:
        return response
    status = response.status_code
    kind = {
        400: "bad request",
        401: "authentication failed",
        403: "access denied",
        404: "not found (unknown deployment, model or project?)",
        429: "rate limited",
    }.get(status, "provider error")
    detail = provider_message(response)
    raise ProbeError(f"{what}: {kind} (HTTP {status})" + (f": {detail}" if detail else ""))


def count_listed(response: httpx.Response, *keys: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    for key in keys:
        if isinstance(body, dict) and isinstance(body.get(key), list):
            return f"; {len(body[key])} listed"
    return ""


# --- per provider ---------------------------------------------------------------------------------

Probe = Callable[[Http, Mapping[str, Any], str | None], str]


def base_url(values: Mapping[str, Any], slug: str) -> str:
    base = values.get("api_base") or DEFAULT_BASES.get(slug, "")
    if not base:
        raise ProbeError("no API base URL is set")
    return str(base).rstrip("/")


def bearer(values: Mapping[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {values['api_key']}"} if values.get("api_key") else {}


def openai_style(slug: str, path: str = "/models") -> Probe:
    """OpenAI-style APIs: list the models with a bearer token."""

    def probe(http: Http, values, model) -> str:
        response = expect_ok(
            http.request("GET", base_url(values, slug) + path, headers=bearer(values)), "models"
        )
        return "the key works" + count_listed(response, "data", "models")

    return probe


def anthropic(http: Http, values, model) -> str:
    headers = {"x-api-key": str(values.get("api_key", "")), "anthropic-version": "2023-06-01"}
    response = expect_ok(
        http.request("GET", base_url(values, "anthropic") + "/v1/models", headers=headers), "models"
    )
    return "the key works" + count_listed(response, "data")


def gemini(http: Http, values, model) -> str:
    headers = {"x-goog-api-key": str(values.get("api_key", ""))}
    response = expect_ok(
        http.request("GET", base_url(values, "gemini") + "/v1beta/models", headers=headers), "models"
    )
    return "the key works" + count_listed(response, "models")


def ollama(http: Http, values, model) -> str:
    response = expect_ok(
        http.request("GET", base_url(values, "ollama") + "/api/tags", headers=bearer(values)), "tags"
    )
    return "Ollama answers" + count_listed(response, "models")


def azure_token(http: Http, values) -> str:
    authority = setting("LITECREDS_AZURE_AUTHORITY", "https://login.microsoftonline.com").rstrip("/")
    url = f"{authority}/{quote(str(values.get('tenant_id', '')), safe='')}/oauth2/v2.0/token"
    data = {
        "grant_type": "client_credentials",
        "client_id": str(values.get("client_id", "")),
        "client_secret": str(values.get("client_secret", "")),
        "scope": "https://cognitiveservices.azure.com/.default",
    }
    response = expect_ok(http.request("POST", url, data=data), "Entra ID token")
    token = response.json().get("access_token")
    if not token:
        raise ProbeError("Entra ID token: the answer held no access_token")
    return token


def azure(http: Http, values, model) -> str:
    version = str(values.get("api_version") or "2024-10-21")
    if values.get(AUTH_METHOD) == "entra_id":
        headers = {"authorization": f"Bearer {azure_token(http, values)}"}
    else:
        headers = {"api-key": str(values.get("api_key", ""))}
    url = base_url(values, "azure") + "/openai/models"
    response = expect_ok(http.request("GET", url, headers=headers, params={"api-version": version}), "models")
    return "the endpoint accepts the credentials" + count_listed(response, "data")


def azure_ai(http: Http, values, model) -> str:
    headers = {"api-key": str(values.get("api_key", ""))}
    url = base_url(values, "azure_ai") + "/info"
    expect_ok(
        http.request("GET", url, headers=headers, params={"api-version": "2024-05-01-preview"}), "model info"
    )
    return "the endpoint accepts the key"


def databricks(http: Http, values, model) -> str:
    workspace = re.sub(r"/serving-endpoints/?$", "", base_url(values, "databricks"))
    response = expect_ok(
        http.request("GET", workspace + "/api/2.0/serving-endpoints", headers=bearer(values)),
        "serving endpoints",
    )
    return "the token works" + count_listed(response, "endpoints")


def watsonx(http: Http, values, model) -> str:
    iam = setting("LITECREDS_IBM_IAM_URL", "https://iam.cloud.ibm.com").rstrip("/")
    data = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": str(values.get("api_key", ""))}
    expect_ok(http.request("POST", iam + "/identity/token", data=data), "IBM IAM token")
    return "IBM Cloud accepts the API key"


class GoogleRequest:
    """google-auth's transport interface over our guarded httpx client."""

    def __init__(self, http: Http) -> None:
        self.http = http

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        from google.auth import exceptions

        try:
            response = self.http.request(method, url, content=body, headers=headers or {})
        except ProbeError as exc:
            raise exceptions.TransportError(str(exc)) from None
        return _GoogleResponse(response)


@dataclass
class _GoogleResponse:
    response: httpx.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def headers(self):
        return self.response.headers

    @property
    def data(self) -> bytes:
        return self.response.content


def vertex_ai(http: Http, values, model) -> str:
    from google.auth import exceptions
    from google.oauth2 import service_account

    if values.get(AUTH_METHOD) == "adc" or not values.get("vertex_credentials"):
        raise ProbeError(
            "application default credentials live on the gateway's machine; nothing to test here"
        )
    info = values["vertex_credentials"]
    info = json.loads(info) if isinstance(info, str) else info
    try:
        credentials = service_account.Credentials.from_service_account_info(
            info, scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        credentials.refresh(GoogleRequest(http))
    except exceptions.RefreshError as exc:
        detail = exc.args[0] if exc.args else "refused"
        raise ProbeError(
            f"token exchange at {urlsplit(info.get('token_uri', '')).netloc}: {str(detail)[:200]}"
        ) from None
    except exceptions.TransportError as exc:
        raise ProbeError(str(exc)) from None
    except (ValueError, KeyError) as exc:
        raise ProbeError(f"the service-account JSON cannot sign ({exc.__class__.__name__})") from None
    project = values.get("vertex_project") or info.get("project_id")
    location = values.get("vertex_location") or "us-central1"
    api = setting("LITECREDS_VERTEX_API_BASE", f"https://{location}-aiplatform.googleapis.com").rstrip("/")
    url = f"{api}/v1/projects/{project}/locations/{location}"
    url += f"/publishers/google/models/{quote(model, safe='')}" if model else "/endpoints"
    headers = {"authorization": f"Bearer {credentials.token}"}
    expect_ok(http.request("GET", url, headers=headers), "Vertex AI")
    return f"signed in as {info.get('client_email')} and reached project {project} in {location}"


def bedrock(http: Http, values, model) -> str:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    method = values.get(AUTH_METHOD) or "access_keys"
    if method != "access_keys":
        raise ProbeError(
            "role and default-chain credentials are resolved on the gateway's machine; nothing to test here"
        )
    region = str(values.get("aws_region_name") or "us-east-1")
    endpoint = setting("LITECREDS_BEDROCK_ENDPOINT", f"https://bedrock.{region}.amazonaws.com").rstrip("/")
    request = AWSRequest(method="GET", url=f"{endpoint}/foundation-models")
    credentials = Credentials(
        str(values.get("aws_access_key_id", "")),
        str(values.get("aws_secret_access_key", "")),
        values.get("aws_session_token") or None,
    )
    SigV4Auth(credentials, "bedrock", region).add_auth(request)
    response = expect_ok(http.request("GET", request.url, headers=dict(request.headers.items())), "Bedrock")
    return f"AWS accepts the keys in {region}" + count_listed(response, "modelSummaries")


DEFAULT_BASES = {
    p.slug: (p.field("api_base").default or p.field("api_base").placeholder)
    for p in BY_SLUG.values()
    if p.field("api_base")
}
DEFAULT_BASES["cohere"] = "https://api.cohere.ai"

PROBES: dict[str, Probe] = {
    **{slug: openai_style(slug) for slug in ("openai", "groq", "mistral", "together_ai", "deepseek", "xai")},
    **{slug: openai_style(slug) for slug in ("fireworks_ai", "perplexity", "openrouter", "openai_like")},
    "huggingface": openai_style("huggingface", "/api/whoami-v2"),
    "cohere": openai_style("cohere", "/v1/models"),
    "anthropic": anthropic,
    "gemini": gemini,
    "ollama": ollama,
    "azure": azure,
    "azure_ai": azure_ai,
    "databricks": databricks,
    "watsonx": watsonx,
    "vertex_ai": vertex_ai,
    "bedrock": bedrock,
}


def redact(message: str, values: Mapping[str, Any]) -> str:
    for value in secret_strings(values):
        for chunk in {value, value[:8], value[-8:]}:
            if len(chunk) >= 6:
                message = message.replace(chunk, "••••")
    return message


def secret_strings(values: Mapping[str, Any]) -> list[str]:
    """The secret texts among ``values``; of a service account, its private key and key id."""
    found: list[str] = []
    for value in values.values():
        if isinstance(value, dict):
            found += [str(value.get(k, "")) for k in ("private_key", "private_key_id")]
        elif isinstance(value, str):
            found.append(value)
    return sorted((v for v in found if len(v) >= 8), key=len, reverse=True)


@sensitive_variables()
def probe_values(provider: str, values: Mapping[str, Any], model: str | None = None) -> ProbeResult:
    """Run the provider's probe with ``values`` (LiteLLM parameter names); never raises."""
    spec = BY_SLUG.get(provider)
    probe = PROBES.get(provider)
    if spec is None or probe is None:
        return ProbeResult(False, f"Test connection does not know provider {provider!r}")
    secrets = {k: v for k, v in values.items() if (spec.field(k) and spec.field(k).secret) or looks_secret(k)}
    try:
        with Http() as http:
            detail = probe(http, values, model)
    except ProbeError as exc:
        return ProbeResult(False, redact(f"{spec.label}: {exc}", secrets))
    return ProbeResult(True, redact(f"{spec.label}: connection works — {detail}", secrets))


def probe_credential(credential, actor=None) -> ProbeResult:
    """Test a stored credential, and record the test in the audit trail."""
    from litecreds import audit
    from litecreds.keyring import SecretUnavailable

    try:
        secrets = dict(credential.secrets)
    except SecretUnavailable as exc:
        result = ProbeResult(False, f"The stored secrets cannot be opened: {exc}")
    else:
        result = probe_values(credential.provider, {**credential.params, **secrets})
    audit.record(
        "test", credential, actor=actor, outcome="ok" if result.ok else "failed", message=result.message
    )
    return result
