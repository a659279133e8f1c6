"""Settings for the test suite: the project's settings, fixed test keys, and a test app."""

import os

os.environ["LITECREDS_ENV_FILE"] = ""  # never read a developer's .env in tests
os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-litecreds-suite-only-0123456789")
os.environ["LITECREDS_MASTER_KEY"] = "test-master-key-for-the-suite-0123456789abcdef"
os.environ.pop("LITECREDS_SALT_KEY", None)
os.environ.pop("LITECREDS_OLD_KEYS", None)

from litecreds.settings import *  # noqa: F403
from litecreds.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405 - live-server threads must not keep connections
