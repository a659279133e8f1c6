"""Two editors at once, and a rotation killed with SIGKILL half way."""

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from credentials.models import Credential
from credentials.services import ChangedSinceOpened, credential_prepare, credential_save, credential_write
from tests.helpers import ROOT, clean_env, manage

KEY_A = "azk-first-0000000000000000000000001"
KEY_B = "azk-second-000000000000000000000002"


def opened_version(response) -> str:
    return re.search(r'name="opened_version" value="([^"]+)"', response.content.decode()).group(1)


def form_data(version: str, **overrides) -> dict:
    data = {
        "opened_version": version,
        "name": "shared azure",
        "description": "",
        "metadata": "{}",
        "auth_method": "api_key",
        "api_base": "https://eu.openai.azure.com/",
        "api_version": "2024-06-01",
        "api_key": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def credential(db):
    return credential_save(
        name="shared azure",
        provider="azure",
        submitted={"api_base": "https://eu.openai.azure.com/", "api_version": "2024-06-01", "api_key": KEY_A},
    )


@pytest.mark.django_db
def test_the_later_of_two_editors_is_refused_and_the_first_save_stays_whole(admin_client, client, credential):
    from django.contrib.auth import get_user_model

    bob = get_user_model().objects.create_superuser("bob", "bob@example.com", "bob-password-1")
    client.force_login(bob)
    url = f"/admin/credentials/credential/{credential.pk}/change/"
    alice_version = opened_version(admin_client.get(url))
    bob_version = opened_version(client.get(url))

    saved = client.post(url, form_data(bob_version, api_key=KEY_B, api_version="2024-10-21"))
    assert saved.status_code == 302
    late = admin_client.post(url, form_data(alice_version, description="alice's edit"))
    assert late.status_code == 200
    assert "was changed since you opened it (by bob" in late.content.decode()
    credential.refresh_from_db()
    assert credential.secrets == {"api_key": KEY_B}  # bob's key, not alice's stale "keep"
    assert credential.params["api_version"] == "2024-10-21"
    assert credential.info.get("description", "") == ""


@pytest.mark.django_db
def test_a_save_that_lands_between_the_check_and_the_write_is_refused_too(credential):
    stale = Credential.objects.get(pk=credential.pk)
    prepared = credential_prepare(
        credential=stale, name="shared azure", provider="azure", submitted={"api_version": "2025-01-01"}
    )
    fresh = Credential.objects.get(pk=credential.pk)
    credential_save(credential=fresh, name="shared azure", provider="azure", submitted={"api_key": KEY_B})
    with pytest.raises(ChangedSinceOpened, match="changed since you opened it"):
        credential_write(prepared)
    fresh = Credential.objects.get(pk=credential.pk)
    assert fresh.secrets == {"api_key": KEY_B}
    assert fresh.params["api_version"] == "2024-06-01"


# --- rotation killed with SIGKILL --------------------------------------------------------------------

FILL = """
import django
django.setup()
from credentials.models import Credential
from credentials.values import masks
rows = [Credential(name=f"c{i:05d}", provider="openai", secrets={"api_key": f"sk-{i:05d}-0123456789abcdef"})
        for i in range(%d)]
Credential.objects.bulk_create(rows, batch_size=1000)
print(Credential.objects.count())
"""


def status(env) -> dict:
    result = manage("keys", "status", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return next(c for c in data["columns"] if c["column"] == "credentials.Credential.secrets")["rows_by_key"]


def test_a_rotation_killed_half_way_loses_nothing_and_the_next_run_finishes(tmp_path):
    rows = 12000
    base = clean_env(
        SECRET_KEY="s" * 50,
        LITECREDS_MASTER_KEY="rotation-master-key-0123456789abcdefgh",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="litecreds.settings",
    )
    assert manage("migrate", "-v0", env=base).returncode == 0
    filled = subprocess.run(
        [sys.executable, "-c", FILL % rows], env=base, cwd=ROOT, capture_output=True, text=True
    )
    assert filled.stdout.strip().endswith(str(rows)), filled.stderr
    (master_id,) = status(base)

    env = dict(base, LITECREDS_SALT_KEY="rotation-salt-key-0123456789abcdefghij")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "keys", "rotate", "--batch-size", "500"],
        env=env, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    for line in process.stderr:
        if re.search(r"credentials\.Credential\.secrets: (1000|1500)/", line):
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    counts = status(env)
    assert sum(counts.values()) == rows
    assert master_id in counts and len(counts) == 2  # some rows moved, some not yet
    assert manage("keys", "verify", env=env).returncode == 0  # every row still opens

    finish = manage("keys", "rotate", "--batch-size", "500", env=env)
    assert finish.returncode == 0, finish.stderr
    (salt_id,) = status(env)
    assert salt_id != master_id
    verify = manage("keys", "verify", env=env)
    assert verify.returncode == 0 and f"Opened {rows} value(s); 0 failed." in verify.stdout
