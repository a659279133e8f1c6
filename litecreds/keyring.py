"""The keyring: which keys seal and open secrets at rest.

The primary (sealing) key is ``LITECREDS_SALT_KEY`` when set, otherwise
``LITECREDS_MASTER_KEY``; every configured key, ``LITECREDS_OLD_KEYS`` included, can open.
Working keys are derived with HKDF-SHA256 from the configured text; each has a short public id
derived from the key through a separate HKDF output, so the id reveals nothing of the key.

Sealed text is ``lc1:<key id>:<base64(nonce || AES-256-GCM ciphertext+tag)>``.
"""

from __future__ import annotations

import binascii
import functools
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from litecreds.config import check_key_length

VERSION = "lc1"
KEY_ID_LENGTH = 8
PREFIX_LENGTH = len(VERSION) + 1 + KEY_ID_LENGTH + 1  # "lc1:" + id + ":"
NONCE_BYTES = 12
_HKDF_SALT = b"litecreds keyring v1"


Where = str | Callable[[], str]


class SecretUnavailable(Exception):
    """A sealed value could not be opened. Names the key id it needed and where it lives."""

    def __init__(self, message: str, *, key_id: str | None = None, where: str = "") -> None:
        super().__init__(message)
        self.key_id = key_id
        self.where = where


class KeyNotConfigured(SecretUnavailable):
    """The value was sealed with a key that is not configured here."""


class CiphertextInvalid(SecretUnavailable):
    """The value was altered, truncated, or moved from another row or column."""


class NoKeyConfigured(ImproperlyConfigured):
    """Neither LITECREDS_SALT_KEY nor LITECREDS_MASTER_KEY is set."""


def _derive(text: str, info: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=info)
    return hkdf.derive(text.encode("utf-8"))


@dataclass(frozen=True)
class Key:
    key_id: str
    source: str  # "salt", "master" or "old"
    aead: AESGCM

    def __repr__(self) -> str:  # never show key material
        return f"Key(id={self.key_id!r}, source={self.source!r})"


@functools.lru_cache(maxsize=64)
def make_key(text: str, source: str) -> Key:
    key_id = _derive(text, b"litecreds key id").hex()[:KEY_ID_LENGTH]
    return Key(key_id=key_id, source=source, aead=AESGCM(_derive(text, b"litecreds aes-256-gcm")))


@dataclass(frozen=True)
class Keyring:
    primary: Key | None
    keys: dict[str, Key]

    def require_primary(self) -> Key:
        if self.primary is None:
            raise NoKeyConfigured(
                "no encryption key configured: set LITECREDS_MASTER_KEY or LITECREDS_SALT_KEY"
            )
        return self.primary

    def seal(self, plaintext: bytes, associated_data: bytes) -> str:
        key = self.require_primary()
        nonce = os.urandom(NONCE_BYTES)
        body = binascii.b2a_base64(nonce + key.aead.encrypt(nonce, plaintext, associated_data), newline=False)
        return f"{VERSION}:{key.key_id}:{body.decode('ascii')}"

    def open(self, sealed: str, associated_data: bytes, where: Where = "") -> bytes:
        """Open ``sealed``; ``where`` (text, or a function giving it) names it in errors."""
        try:
            _version, key_id, body = sealed.split(":", 2)
            key = self.keys[key_id]
            raw = binascii.a2b_base64(body, strict_mode=True)
            return key.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
        except (KeyError, InvalidTag, ValueError, UnicodeEncodeError, AttributeError, binascii.Error):
            pass  # find out what went wrong, off the fast path
        where = where() if callable(where) else where
        _version, key_id, body = split_sealed(sealed, where)
        key = self.keys.get(key_id)
        if key is None:
            raise KeyNotConfigured(
                f"cannot open {where}: it was sealed with key id {key_id}, which is not "
                f"configured (configured: {', '.join(self.keys) or 'none'})",
                key_id=key_id,
                where=where,
            )
        try:
            raw = binascii.a2b_base64(body, strict_mode=True)
            return key.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
        except (InvalidTag, ValueError, UnicodeEncodeError, binascii.Error):
            raise CiphertextInvalid(
                f"cannot open {where} with key id {key_id}: the ciphertext was altered "
                "or copied from another row or column",
                key_id=key_id,
                where=where,
            ) from None


def split_sealed(sealed: str, where: str = "") -> tuple[str, str, str]:
    """Split sealed text into (version, key id, body) or raise ``CiphertextInvalid``."""
    parts = sealed.split(":", 2) if isinstance(sealed, str) else []
    if len(parts) != 3 or parts[0] != VERSION or len(parts[1]) != KEY_ID_LENGTH:
        raise CiphertextInvalid(
            f"cannot open {where}: the stored text is not litecreds ciphertext ({VERSION})",
            where=where,
        )
    return parts[0], parts[1], parts[2]


def looks_sealed(value: object) -> bool:
    try:
        split_sealed(value)  # type: ignore[arg-type]
    except CiphertextInvalid:
        return False
    return True


@functools.lru_cache(maxsize=16)
def _build(salt: str | None, master: str | None, old: tuple[str, ...]) -> Keyring:
    keys: dict[str, Key] = {}
    configured = [("salt", "LITECREDS_SALT_KEY", salt), ("master", "LITECREDS_MASTER_KEY", master)]
    configured += [("old", f"LITECREDS_OLD_KEYS (item {i})", k) for i, k in enumerate(old, 1)]
    for source, name, text in configured:
        if text:
            check_key_length(name, text)
            key = make_key(text, source)
            keys.setdefault(key.key_id, key)
    primary_text, primary_source = (salt, "salt") if salt else (master, "master")
    primary = make_key(primary_text, primary_source) if primary_text else None
    return Keyring(primary=primary, keys=keys)


KEY_SETTINGS = frozenset({"LITECREDS_SALT_KEY", "LITECREDS_MASTER_KEY", "LITECREDS_OLD_KEYS"})
_current: list[Keyring] = []  # the keyring for the current settings, built on first use


def get_keyring() -> Keyring:
    """The keyring for the current settings; rebuilt whenever a key setting changes."""
    if _current:
        return _current[0]
    old = settings.LITECREDS_OLD_KEYS or []
    if isinstance(old, str):
        old = [item.strip() for item in old.split(",") if item.strip()]
    keyring = _build(settings.LITECREDS_SALT_KEY or None, settings.LITECREDS_MASTER_KEY or None, tuple(old))
    _current[:] = [keyring]
    return keyring


@receiver(setting_changed)
def _forget_keyring(*, setting: str, **kwargs) -> None:
    """override_settings and the test `settings` fixture send this; a new keyring follows."""
    if setting in KEY_SETTINGS:
        _current.clear()


def generate_key() -> str:
    """A fresh strong key: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def describe_primary() -> str:
    keyring = get_keyring()
    if keyring.primary is None:
        return "no encryption key configured (set LITECREDS_MASTER_KEY or LITECREDS_SALT_KEY)"
    name = "LITECREDS_SALT_KEY" if keyring.primary.source == "salt" else "LITECREDS_MASTER_KEY"
    return f"primary key from {name} ({keyring.primary.source}), id {keyring.primary.key_id}"
