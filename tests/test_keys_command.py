"""`manage.py keys status|rotate|verify` and the system checks on stored keys."""

import io
import json

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command

from litecreds import sealing
from litecreds.keyring import make_key
from litecreds.models import AuditEvent
from tests.conftest import raw_column, set_raw_column
from tests.testapp.models import Vault, VaultRef

pytestmark = pytest.mark.django_db

SALT = "a-salt-key-added-after-data-exists-0123456789"
NEW_MASTER = "a-replacement-master-key-0123456789abcdefghij"


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def status() -> dict:
    return json.loads(run("status", "--format", "json")[0])


def column(data: dict, label: str) -> dict:
    return next(c for c in data["columns"] if c["column"] == label)


def store_rows(n: int = 12) -> list[Vault]:
    vaults = [Vault.objects.create(name=f"v{i}", secret={"api_key": f"sk-{i}"}, touched=i) for i in range(n)]
    VaultRef.objects.create(vault=vaults[0], note={"n": 1})
    return vaults


def snapshot() -> list[tuple]:
    return sorted(Vault.objects.values_list("pk", "name", "touched", "updated_at", "secret", "other"))


def warning_ids() -> set[str]:
    return {m.id for m in run_checks(databases=["default"])}


def test_status_lists_keys_and_counts_rows_per_key_without_decrypting(settings):
    store_rows(3)
    Vault.objects.create(secret=None)
    master_id = make_key(settings.LITECREDS_MASTER_KEY, "").key_id
    data = status()
    assert data["primary"] == {"source": "master", "key_id": master_id}
    assert data["keys"] == [{"key_id": master_id, "source": "master"}]
    vault_secret = column(data, "testapp.Vault.secret")
    assert vault_secret["rows_by_key"] == {master_id: 3}  # the NULL row is not counted
    assert column(data, "testapp.Vault.other")["rows_by_key"] == {master_id: 4}
    assert column(data, "testapp.VaultRef.note")["rows_by_key"] == {master_id: 1}
    assert data["rotation_pending"] is False

    settings.LITECREDS_MASTER_KEY = NEW_MASTER  # no key can open the rows now: counting still works
    assert column(status(), "testapp.Vault.secret")["rows_on_unknown_key"] == 3


def test_status_as_a_table(settings):
    store_rows(2)
    out, _ = run("status")
    master_id = make_key(settings.LITECREDS_MASTER_KEY, "").key_id
    assert f"Primary key: {master_id} (from the master key)" in out
    assert f"testapp.Vault.secret: {master_id}: 2" in out
    assert "Rotation pending: no" in out


def test_adding_a_salt_key_keeps_rows_readable_and_rotation_moves_them(settings):
    vaults = store_rows()
    before = snapshot()
    master_id = make_key(settings.LITECREDS_MASTER_KEY, "").key_id
    salt_id = make_key(SALT, "").key_id

    settings.LITECREDS_SALT_KEY = SALT
    assert snapshot() == before  # every row still opens
    data = status()
    assert data["primary"]["key_id"] == salt_id
    assert data["rotation_pending"] is True
    assert column(data, "testapp.Vault.secret")["rows_to_rotate"] == 12
    assert "litecreds.W002" in warning_ids()

    dry, _ = run("rotate", "--dry-run")
    assert "testapp.Vault.secret: would re-seal 12 row(s)" in dry
    assert column(status(), "testapp.Vault.secret")["rows_by_key"] == {master_id: 12}

    out, progress = run("rotate", "--batch-size", "5")
    assert "Re-sealed 25 value(s)" in out  # 12 secret + 12 other + 1 note
    assert "testapp.Vault.secret: 12/12" in progress
    assert snapshot() == before  # same values; no other column or timestamp changed
    data = status()
    assert data["rotation_pending"] is False
    assert all(set(c["rows_by_key"]) <= {salt_id} for c in data["columns"])
    assert raw_column("testapp_vault", "secret", vaults[0].pk).startswith(f"lc1:{salt_id}:")
    assert "litecreds.W002" not in warning_ids()

    again, _ = run("rotate")
    assert "Re-sealed 0 value(s); 25 already on the primary key" in again
    events = list(AuditEvent.objects.filter(action="rotate").values_list("source", "outcome", "message"))
    assert events[-1] == ("command", "ok", "re-sealed 25, 0 could not be opened")

    settings.LITECREDS_MASTER_KEY = NEW_MASTER  # the master key may change now
    assert snapshot() == before
    assert "Opened 25 value(s); 0 failed." in run("verify")[0]


def test_a_rotation_that_fails_half_way_loses_nothing_and_the_next_run_finishes(settings, monkeypatch):
    store_rows(10)
    before = snapshot()
    settings.LITECREDS_SALT_KEY = SALT
    salt_id = make_key(SALT, "").key_id
    real_write, calls = sealing._write_batch, []

    def failing_second_batch(model, field, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("simulated crash during the second batch")
        return real_write(model, field, rows)

    monkeypatch.setattr(sealing, "_write_batch", failing_second_batch)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run("rotate", "--batch-size", "4")
    assert snapshot() == before
    assert column(status(), "testapp.Vault.secret")["rows_by_key"][salt_id] == 4  # the first batch only

    monkeypatch.setattr(sealing, "_write_batch", real_write)
    out, _ = run("rotate", "--batch-size", "4")
    assert "Re-sealed 17 value(s); 4 already on the primary key" in out
    assert snapshot() == before
    assert status()["rotation_pending"] is False


def test_rows_on_a_key_that_is_not_configured_are_named_and_the_others_rotate(settings):
    lost = Vault.objects.create(name="lost", secret={"api_key": "lost"})
    settings.LITECREDS_MASTER_KEY = NEW_MASTER  # the key that sealed `lost` is gone
    kept = Vault.objects.create(name="kept", secret={"api_key": "kept"})
    settings.LITECREDS_SALT_KEY = SALT

    assert "litecreds.W001" in warning_ids()
    with pytest.raises(CommandError, match=r"2 value\(s\) could not be opened"):
        err = io.StringIO()
        call_command("keys", "rotate", stdout=io.StringIO(), stderr=err)
    assert f"testapp.Vault.secret {lost.pk}" in err.getvalue()
    assert Vault.objects.get(pk=kept.pk).secret == {"api_key": "kept"}
    assert raw_column("testapp_vault", "secret", kept.pk).startswith(f"lc1:{make_key(SALT, '').key_id}:")

    with pytest.raises(CommandError, match="could not be opened"):
        verify_err = io.StringIO()
        call_command("keys", "verify", stdout=io.StringIO(), stderr=verify_err)
    assert f"testapp.Vault.secret {lost.pk}" in verify_err.getvalue()
    assert "not configured" in verify_err.getvalue()


def test_verify_reports_ciphertext_edited_by_hand(settings):
    vault = Vault.objects.create(secret="s")
    stored = raw_column("testapp_vault", "secret", vault.pk)
    set_raw_column("testapp_vault", "secret", vault.pk, stored[:-4] + "AAAA")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("keys", "verify", stdout=io.StringIO(), stderr=err)
    assert f"testapp.Vault.secret {vault.pk}" in err.getvalue()
    assert "altered" in err.getvalue()


def test_rotation_never_overwrites_a_value_changed_meanwhile(settings):
    vault = Vault.objects.create(secret="old value")
    stale = raw_column("testapp_vault", "secret", vault.pk)
    vault.secret = "new value"
    vault.save()
    field = Vault._meta.get_field("secret")
    assert sealing._write_batch(Vault, field, [(field.seal("old value", vault.pk), vault.pk, stale)]) == 0
    assert Vault.objects.get(pk=vault.pk).secret == "new value"


def test_rotate_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="--batch-size"):
        run("rotate", "--batch-size", "0")
