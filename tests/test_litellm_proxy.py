"""A real LiteLLM proxy, started with our export, serves requests with the stored keys.

The proxy runs from its own virtualenv (`make litellm-env`, which .ci/run does): LiteLLM is
large and the project does not import it. Its upstreams are a loopback server that checks
each provider's authentication.
"""

import io
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from dotenv import dotenv_values

from credentials.models import Credential
from models_registry.models import ModelDeployment
from tests.helpers import ROOT
from tests.provider_server import ProviderServer

pytestmark = pytest.mark.django_db
LITELLM = Path(os.environ.get("LITECREDS_LITELLM_BIN", ROOT / ".venv-litellm" / "bin" / "litellm"))
AZURE_KEY = "azure-proxy-key-0123456789abcdef"
OPENAI_KEY = "sk-proxy-inline-0123456789abcdef"
MASTER = "sk-litecreds-test-proxy-master-8f3a9c1e5b7d2f4a6c8e0b1d3f5a7c9e"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def upstream(tmp_path):
    server = ProviderServer(tmp_path, tls=False)
    yield server
    server.close()


def test_the_proxy_serves_requests_with_the_exported_keys(tmp_path, upstream):
    if not LITELLM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{LITELLM} is missing: .ci/run builds it with `make litellm-env`")
        pytest.skip("the LiteLLM proxy is not installed here (make litellm-env)")
    upstream.expected.azure_key = AZURE_KEY
    upstream.expected.bearer = {"/openai/": OPENAI_KEY}
    azure = Credential.objects.create(
        name="azure eu", provider="azure", secrets={"api_key": AZURE_KEY},
        params={"auth_method": "api_key", "api_base": f"{upstream.url}/azure", "api_version": "2024-06-01"},
    )  # fmt: skip
    ModelDeployment.objects.create(
        model_name="gpt-4o", provider="azure", litellm_model="azure/gpt-4o-eu", credential=azure
    )
    ModelDeployment.objects.create(
        model_name="gpt-4o-mini", provider="openai", litellm_model="openai/gpt-4o-mini",
        params={"api_base": f"{upstream.url}/openai/v1"}, secrets={"api_key": OPENAI_KEY},
    )  # fmt: skip
    config = tmp_path / "config.yaml"
    call_command(
        "litellm",
        "export",
        "--output",
        str(config),
        "--secrets",
        "env",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert AZURE_KEY not in config.read_text()

    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "*",
        "LITELLM_MASTER_KEY": MASTER,
        **dotenv_values(tmp_path / "config.yaml.env"),
    }
    log = open(tmp_path / "proxy.log", "w")  # noqa: SIM115 - closed below
    proxy = subprocess.Popen(
        [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proxy.poll() is None, (tmp_path / "proxy.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/health/liveliness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        else:
            pytest.fail("the proxy did not start: " + (tmp_path / "proxy.log").read_text()[-3000:])
        for model, expected in (("gpt-4o", "hello from azure"), ("gpt-4o-mini", "hello from /openai/")):
            response = httpx.post(
                f"{base}/v1/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
                headers={"authorization": f"Bearer {MASTER}"},
                timeout=60,
            )
            assert response.status_code == 200, response.text
            assert response.json()["choices"][0]["message"]["content"] == expected
        azure_calls = [
            r for r in upstream.requests if r["path"].startswith("/azure/openai/deployments/gpt-4o-eu/")
        ]
        assert azure_calls and azure_calls[-1]["headers"]["api-key"] == AZURE_KEY
        openai_calls = [r for r in upstream.requests if r["path"] == "/openai/v1/chat/completions"]
        assert openai_calls and openai_calls[-1]["headers"]["authorization"] == f"Bearer {OPENAI_KEY}"
    finally:
        proxy.terminate()
        try:
            proxy.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proxy.kill()
        log.close()
