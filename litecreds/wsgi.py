"""WSGI entry point: `gunicorn litecreds.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

from litecreds.config import exit_on_config_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "litecreds.settings")

with exit_on_config_error():
    application = get_wsgi_application()
