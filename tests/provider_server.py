"""A real HTTPS server on loopback that authenticates requests exactly as each provider would.

Vertex's token endpoint verifies the signed assertion with the service account's public key;
Bedrock's endpoint recomputes the SigV4 signature with the secret key; the others compare the
header each provider reads. Every request is recorded for the tests to inspect.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

GOOGLE_TOKEN = "ya29.litecreds-test-token"
ENTRA_TOKEN = "entra-access-token-for-tests"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "provider-cert.pem", folder / "provider-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Expected:
    """What the fake providers accept; tests set these."""

    bearer: dict[str, str] = field(default_factory=dict)  # path prefix -> token
    anthropic_key: str = ""
    gemini_key: str = ""
    azure_key: str = ""
    azure_ai_key: str = ""
    entra: tuple[str, str, str] = ("", "", "")  # tenant, client id, client secret
    ibm_key: str = ""
    google_public_key: bytes = b""
    google_client_email: str = ""
    vertex_models: tuple[str, ...] = ()
    aws: tuple[str, str, str] = ("", "", "")  # access key id, secret, region


def completion(model: str, text: str) -> dict:
    """An OpenAI-style chat completion answer."""
    return {
        "id": "chatcmpl-litecreds",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
    }


class ProviderServer:
    def __init__(self, folder: Path, tls: bool = True) -> None:
        self.cert, key = make_certificate(folder)
        self.expected = Expected()
        self.requests: list[dict] = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class())
        self.port = server.server_address[1]
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        server.handle_error = lambda request, address: None  # clients that time out hang up on purpose
        self.server = server
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handler_class(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                self.handle_any("GET")

            def do_POST(self):
                self.handle_any("POST")

            def handle_any(self, method):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                record = {
                    "method": method,
                    "path": parts.path,
                    "query": parts.query,
                    "headers": dict(self.headers),
                }
                outer.requests.append(record)
                status, payload = outer.answer(method, parts.path, parse_qs(parts.query), self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    # --- the providers -----------------------------------------------------------------------------
    def answer(self, method, path, query, headers, body):
        e = self.expected
        if path.startswith("/slow"):
            time.sleep(3)
            return 200, {}
        for prefix, token in e.bearer.items():
            if path.startswith(prefix):
                if headers.get("authorization") != f"Bearer {token}":
                    return 401, {
                        "error": {
                            "message": f"Incorrect API key provided: {headers.get('authorization', '')[7:]}"
                        }
                    }
                if path.endswith("/chat/completions"):
                    return 200, completion(
                        json.loads(body or b"{}").get("model", "?"), f"hello from {prefix}"
                    )
                return 200, {"data": [{"id": "model-a"}, {"id": "model-b"}]}
        if path.startswith("/azure/openai/deployments/") and path.endswith("/chat/completions"):
            if headers.get("api-key") != e.azure_key or "api-version" not in query:
                return 401, {
                    "error": {"code": "401", "message": "Access denied due to invalid subscription key."}
                }
            return 200, completion(path.split("/")[4], "hello from azure")
        if path == "/anthropic/v1/models":
            if (
                headers.get("x-api-key") != e.anthropic_key
                or headers.get("anthropic-version") != "2023-06-01"
            ):
                return 401, {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                }
            return 200, {"data": [{"id": "claude-3-5-sonnet-20240620"}]}
        if path == "/gemini/v1beta/models":
            if headers.get("x-goog-api-key") != e.gemini_key:
                return 400, {
                    "error": {"code": 400, "message": "API key not valid. Please pass a valid API key."}
                }
            return 200, {"models": [{"name": "models/gemini-1.5-pro"}]}
        if path == "/ollama/api/tags":
            return 200, {"models": [{"name": "llama3:latest"}]}
        if path == "/azure/openai/models":
            if "api-version" not in query:
                return 404, {"error": {"code": "404", "message": "Resource not found"}}
            if (
                headers.get("api-key") != e.azure_key
                and headers.get("authorization") != f"Bearer {ENTRA_TOKEN}"
            ):
                return 401, {
                    "error": {"code": "401", "message": "Access denied due to invalid subscription key."}
                }
            return 200, {"data": [{"id": "gpt-4o"}]}
        if path.startswith("/entra/") and path.endswith("/oauth2/v2.0/token"):
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            tenant = path.split("/")[2]
            if (tenant, form.get("client_id"), form.get("client_secret")) != e.entra:
                return 401, {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret.",
                }
            return 200, {"access_token": ENTRA_TOKEN, "token_type": "Bearer", "expires_in": 3600}
        if path == "/azure_ai/models/info":
            if headers.get("api-key") != e.azure_ai_key:
                return 401, {"error": {"code": "Unauthorized", "message": "Access denied"}}
            return 200, {"model_name": "Meta-Llama-3.1-70B-Instruct"}
        if path == "/databricks/api/2.0/serving-endpoints":
            token = e.bearer.get("databricks")
            if headers.get("authorization") != f"Bearer {token}":
                return 401, {"error_code": "401", "message": "Invalid access token."}
            return 200, {"endpoints": [{"name": "databricks-llama"}]}
        if path == "/iam/identity/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("apikey") != e.ibm_key:
                return 400, {
                    "errorCode": "BXNIM0415E",
                    "errorMessage": "Provided API key could not be found.",
                }
            return 200, {"access_token": "ibm-token", "expires_in": 3600}
        if path == "/google/token":
            return self.google_token(body)
        if path.startswith("/vertex/v1/"):
            if headers.get("authorization") != f"Bearer {GOOGLE_TOKEN}":
                return 401, {
                    "error": {"code": 401, "message": "Request had invalid authentication credentials."}
                }
            if "/publishers/google/models/" in path and path.rsplit("/", 1)[-1] not in e.vertex_models:
                return 404, {"error": {"code": 404, "message": "Publisher model not found."}}
            return 200, {"endpoints": []}
        if path == "/bedrock/foundation-models":
            return self.bedrock(method, path, headers)
        return 404, {"error": {"message": f"no such path {path}"}}

    def google_token(self, body: bytes):
        from google.auth import jwt

        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                certs=self.expected.google_public_key,
                audience="https://oauth2.googleapis.com/token",  # what Google's endpoint expects
            )
        except ValueError as exc:
            return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT Signature. ({exc})"}
        if claims.get("iss") != self.expected.google_client_email:
            return 400, {"error": "invalid_grant", "error_description": "Invalid issuer"}
        return 200, {"access_token": GOOGLE_TOKEN, "expires_in": 3600, "token_type": "Bearer"}

    def bedrock(self, method, path, headers):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        key_id, secret, region = self.expected.aws
        authorization = headers.get("authorization", "")
        amz_date = headers.get("x-amz-date", "")
        if f"Credential={key_id}/" not in authorization:
            return 403, {"message": "The security token included in the request is invalid."}
        request = AWSRequest(
            method=method,
            url=f"{self.url}{path}",
            headers={"host": headers.get("host"), "x-amz-date": amz_date},
        )
        if headers.get("x-amz-security-token"):
            request.headers["x-amz-security-token"] = headers["x-amz-security-token"]
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(key_id, secret), "bedrock", region)
        signature = signer.signature(
            signer.string_to_sign(request, signer.canonical_request(request)), request
        )
        if not authorization.endswith(f"Signature={signature}"):
            return 403, {
                "message": "The request signature we calculated does not match the signature you provided."
            }
        return 200, {"modelSummaries": [{"modelId": "anthropic.claude-3-haiku-20240307-v1:0"}]}
