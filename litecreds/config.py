"""Strict reading of litecreds' configuration from the environment.

Every problem is reported as a ``ConfigError`` whose message starts with the name of the
variable, so start-up stops with one line that says what to fix.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_LENGTH = 32
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
DATABASE_SCHEMES = frozenset({"sqlite", "postgres", "postgresql", "pgsql"})
SECRET_NAMES = (
    "SECRET_KEY",
    "LITECREDS_SALT_KEY",
    "LITECREDS_MASTER_KEY",
    "LITECREDS_OLD_KEYS",
    "DATABASE_URL",
)


class ConfigError(ImproperlyConfigured):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Config:
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    database: dict
    salt_key: str | None
    master_key: str | None
    old_keys: list[str] = field(default_factory=list)
    https: bool = False
    hsts_seconds: int = 31536000
    hsts_preload: bool = True
    proxy_ssl_header: bool = False
    db_conn_max_age: int = 60
    probe_timeout: float = 5.0
    session_idle_minutes: int = 30
    login_failure_limit: int = 5
    login_cooloff_minutes: int = 15


def read(env: Mapping[str, str], name: str) -> str | None:
    """The value of ``name``, or of the file named by ``name_FILE`` for secrets."""
    value = env.get(name)
    path = env.get(f"{name}_FILE") if name in SECRET_NAMES else None
    if value not in (None, "") and path:
        raise ConfigError(f"{name}: set either {name} or {name}_FILE, not both")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc.__class__.__name__
            raise ConfigError(f"{name}_FILE: cannot read {path}: {reason}") from None
    return value if value not in (None, "") else None


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = read(env, name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}: expected true or false, got {value!r}")


def parse_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    value = read(env, name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
    return number


def parse_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = read(env, name)
    if value is None:
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a number of seconds, got {value!r}") from None
    if not 0 < number <= 120:
        raise ConfigError(f"{name}: must be between 0 and 120 seconds, got {number:g}")
    return number


def parse_list(env: Mapping[str, str], name: str, default: str) -> list[str]:
    value = read(env, name)
    return [item.strip() for item in (value or default).split(",") if item.strip()]


def parse_database(env: Mapping[str, str], base_dir: Path, conn_max_age: int) -> dict:
    url = read(env, "DATABASE_URL") or f"sqlite:///{base_dir / 'db.sqlite3'}"
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in DATABASE_SCHEMES:
        shown = scheme or url[:20]
        raise ConfigError(
            f"DATABASE_URL: unknown scheme {shown!r} (use sqlite:///path/db.sqlite3 "
            "or postgres://user@host:5432/name)"
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ConfigError(f"DATABASE_URL: cannot be parsed ({exc.__class__.__name__})") from None
    if scheme != "sqlite":
        config["CONN_MAX_AGE"] = conn_max_age
        config["CONN_HEALTH_CHECKS"] = True
    elif not config.get("NAME"):
        raise ConfigError("DATABASE_URL: an SQLite URL needs a file path, e.g. sqlite:///db.sqlite3")
    return config


def parse_key(env: Mapping[str, str], name: str) -> str | None:
    key = read(env, name)
    if key is not None:
        check_key_length(name, key)
    return key


def check_key_length(name: str, key: str) -> None:
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{name}: a key must be at least {MIN_KEY_LENGTH} characters "
            f"(got {len(key)}); `python manage.py keys generate` prints a strong one"
        )


def parse_old_keys(env: Mapping[str, str]) -> list[str]:
    value = read(env, "LITECREDS_OLD_KEYS") or ""
    keys = [item.strip() for item in value.split(",") if item.strip()]
    for position, key in enumerate(keys, start=1):
        check_key_length(f"LITECREDS_OLD_KEYS (item {position})", key)
    return keys


def load(env: Mapping[str, str], base_dir: Path) -> Config:
    """Build the configuration from ``env``; raise ``ConfigError`` on the first bad value."""
    secret_key = read(env, "SECRET_KEY")
    if secret_key is None:
        raise ConfigError("SECRET_KEY: not set (`make run` writes one into .env)")
    conn_max_age = parse_int(env, "LITECREDS_DB_CONN_MAX_AGE", 60)
    return Config(
        secret_key=secret_key,
        debug=parse_bool(env, "DEBUG", False),
        allowed_hosts=parse_list(env, "ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]"),
        database=parse_database(env, base_dir, conn_max_age),
        salt_key=parse_key(env, "LITECREDS_SALT_KEY"),
        master_key=parse_key(env, "LITECREDS_MASTER_KEY"),
        old_keys=parse_old_keys(env),
        https=parse_bool(env, "LITECREDS_HTTPS", False),
        hsts_seconds=parse_int(env, "LITECREDS_HSTS_SECONDS", 31536000),
        hsts_preload=parse_bool(env, "LITECREDS_HSTS_PRELOAD", True),
        proxy_ssl_header=parse_bool(env, "LITECREDS_PROXY_SSL_HEADER", False),
        db_conn_max_age=conn_max_age,
        probe_timeout=parse_float(env, "LITECREDS_PROBE_TIMEOUT", 5.0),
        session_idle_minutes=parse_int(env, "LITECREDS_SESSION_IDLE_MINUTES", 30, minimum=1),
        login_failure_limit=parse_int(env, "LITECREDS_LOGIN_FAILURE_LIMIT", 5, minimum=1),
        login_cooloff_minutes=parse_int(env, "LITECREDS_LOGIN_COOLOFF_MINUTES", 15, minimum=1),
    )


def read_env_file(path: Path) -> None:
    """Load ``path`` into the process environment; variables already set win."""
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)


@contextlib.contextmanager
def exit_on_config_error() -> Iterator[None]:
    """Turn a configuration error into one line on stderr and exit status 2."""
    try:
        yield
    except ConfigError as exc:
        print(f"litecreds: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
