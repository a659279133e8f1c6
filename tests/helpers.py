"""Helpers for tests that run the project as a user would: a subprocess with its own env."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STRONG_KEY = "k" * 40


def clean_env(**overrides: str) -> dict[str, str]:
    """The process environment without litecreds' variables, plus ``overrides``."""
    prefixes = ("LITECREDS_", "DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["LITECREDS_ENV_FILE"] = ""
    env.update(overrides)
    return env


def run_python(*args: str, env: dict[str, str], cwd: Path = ROOT, timeout: int = 120, stdin: str = ""):
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def manage(*args: str, env: dict[str, str], **kwargs):
    return run_python(str(ROOT / "manage.py"), *args, env=env, **kwargs)
