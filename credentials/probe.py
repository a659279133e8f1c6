"""Test connection (filled in with the model-deployments work)."""

from dataclasses import dataclass


@dataclass
class ProbeResult:
    ok: bool
    message: str


def probe_credential(credential, actor=None) -> ProbeResult:
    return ProbeResult(False, "Test connection is not available yet.")
