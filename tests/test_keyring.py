"""The keyring: which key seals, which keys open, public ids, settings changes take effect."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from litecreds.keyring import KeyNotConfigured, generate_key, get_keyring, make_key
from tests.helpers import clean_env, manage
from tests.testapp.models import Vault

MASTER = "master-key-for-keyring-tests-0123456789abcdef"
SALT = "salt-key-for-keyring-tests-0123456789abcdefgh"
OLD = "old-key-for-keyring-tests-0123456789abcdefghij"
AAD = b"testapp.vault|secret|row"


def test_key_ids_are_short_stable_public_fingerprints():
    a, b = make_key(MASTER, "master"), make_key(SALT, "salt")
    assert re.fullmatch(r"[0-9a-f]{8}", a.key_id)
    assert a.key_id == make_key(MASTER, "master").key_id
    assert a.key_id != b.key_id
    assert a.key_id not in MASTER
    assert MASTER not in repr(a)


def test_the_master_key_seals_when_no_salt_key_is_set(settings):
    settings.LITECREDS_SALT_KEY = None
    settings.LITECREDS_MASTER_KEY = MASTER
    keyring = get_keyring()
    assert keyring.primary.source == "master"
    assert keyring.seal(b"x", AAD).split(":")[1] == make_key(MASTER, "master").key_id


def test_the_salt_key_seals_when_set_and_every_configured_key_opens(settings):
    settings.LITECREDS_MASTER_KEY = MASTER
    settings.LITECREDS_OLD_KEYS = []
    sealed_by_master = get_keyring().seal(b"from master", AAD)
    settings.LITECREDS_SALT_KEY = SALT
    settings.LITECREDS_OLD_KEYS = [OLD]
    keyring = get_keyring()
    assert keyring.primary.source == "salt"
    assert keyring.seal(b"x", AAD).split(":")[1] == make_key(SALT, "salt").key_id
    assert keyring.open(sealed_by_master, AAD) == b"from master"
    assert set(keyring.keys) == {make_key(k, "").key_id for k in (MASTER, SALT, OLD)}


def test_retired_keys_in_old_keys_still_open(settings):
    settings.LITECREDS_MASTER_KEY = OLD
    sealed = get_keyring().seal(b"legacy", AAD)
    settings.LITECREDS_MASTER_KEY = MASTER
    with pytest.raises(KeyNotConfigured):
        get_keyring().open(sealed, AAD)
    settings.LITECREDS_OLD_KEYS = [OLD]
    assert get_keyring().open(sealed, AAD) == b"legacy"


def test_settings_changes_take_effect_for_stored_rows(settings, db):
    vault = Vault.objects.create(secret={"api_key": "k"})
    original = settings.LITECREDS_MASTER_KEY
    settings.LITECREDS_MASTER_KEY = MASTER
    with pytest.raises(KeyNotConfigured):
        Vault.objects.get(pk=vault.pk)
    settings.LITECREDS_OLD_KEYS = [original]
    assert Vault.objects.get(pk=vault.pk).secret == {"api_key": "k"}


def test_a_short_key_is_refused(settings):
    settings.LITECREDS_SALT_KEY = "short"
    with pytest.raises(ImproperlyConfigured, match="LITECREDS_SALT_KEY: a key must be at least 32"):
        get_keyring()


def test_generated_keys_are_strong_and_fresh():
    keys = {generate_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(len(k) >= 43 for k in keys)


def test_start_up_logs_the_primary_key_source_and_id_but_never_the_key():
    env = clean_env(SECRET_KEY="s" * 50, LITECREDS_MASTER_KEY=MASTER, LITECREDS_SALT_KEY=SALT)
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr
    salt_id = make_key(SALT, "salt").key_id
    lines = [line for line in result.stderr.splitlines() if "primary key" in line]
    assert lines == [
        f"INFO litecreds.keyring: litecreds: primary key from LITECREDS_SALT_KEY (salt), id {salt_id}"
    ]
    assert SALT not in result.stderr + result.stdout
    assert MASTER not in result.stderr + result.stdout


def test_start_up_without_any_key_fails_the_system_check():
    result = manage("check", env=clean_env(SECRET_KEY="s" * 50))
    assert result.returncode == 1
    assert "litecreds.E001" in result.stderr
    assert "keys generate" in result.stderr


def test_keys_generate_prints_a_key_the_settings_accept():
    result = manage("keys", "generate", env=clean_env(SECRET_KEY="s" * 50))
    key = result.stdout.strip()
    assert result.returncode == 0
    assert len(key) >= 32 and " " not in key
    check = manage("check", env=clean_env(SECRET_KEY="s" * 50, LITECREDS_MASTER_KEY=key))
    assert check.returncode == 0, check.stderr
