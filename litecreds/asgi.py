"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from litecreds.config import exit_on_config_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "litecreds.settings")

with exit_on_config_error():
    application = get_asgi_application()
