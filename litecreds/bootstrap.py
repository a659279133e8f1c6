"""What `make run` does before it serves: .env with fresh keys, migrations, an administrator.

Run as ``python -m litecreds.bootstrap``. Safe to run again: an existing ``.env`` is never
touched, and an existing administrator keeps the password.
Environment: ``LITECREDS_ENV_FILE`` (default ``./.env``), ``LITECREDS_ADMIN_PASSWORD``, ``PORT``.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ADMIN_USERNAME = "admin"


def env_file_path() -> Path:
    return Path(os.environ.get("LITECREDS_ENV_FILE") or BASE_DIR / ".env")


def ensure_env_file(path: Path) -> bool:
    """Write ``path`` with a generated SECRET_KEY and master key; False if it already exists."""
    from litecreds.keyring import generate_key

    content = (
        "# Written by `make run`. Keep this file private and back it up: without\n"
        "# LITECREDS_MASTER_KEY the stored credentials cannot be decrypted.\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"LITECREDS_MASTER_KEY={generate_key()}\n"
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    return True


def ensure_admin() -> tuple[bool, str | None]:
    """Create the ``admin`` superuser if missing: (created, generated password or None)."""
    from django.contrib.auth import get_user_model

    users = get_user_model()
    if users.objects.filter(username=ADMIN_USERNAME).exists():
        return False, None
    given = os.environ.get("LITECREDS_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(12)
    users.objects.create_superuser(ADMIN_USERNAME, "", password)
    return True, None if given else password


def main() -> int:
    path = env_file_path()
    if ensure_env_file(path):
        print(f"Wrote {path} with a new SECRET_KEY and LITECREDS_MASTER_KEY (mode 0600). Back it up.")
    else:
        print(f"Using the existing {path}.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "litecreds.settings")
    os.environ["LITECREDS_ENV_FILE"] = str(path)

    from litecreds.config import exit_on_config_error

    with exit_on_config_error():
        import django

        django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    created, password = ensure_admin()
    port = os.environ.get("PORT", "8000")
    print(f"\nlitecreds is starting on http://127.0.0.1:{port}/")
    if password:
        print(f"Log in as '{ADMIN_USERNAME}' with password: {password}")
        print("This password is shown only this once; change it in the admin.")
    elif created:
        print(f"Log in as '{ADMIN_USERNAME}' with the password from LITECREDS_ADMIN_PASSWORD.")
    else:
        print(f"Log in as '{ADMIN_USERNAME}' with the password printed on the first run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
