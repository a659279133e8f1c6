#!/usr/bin/env python
"""Django's command-line utility for litecreds."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "litecreds.settings")
    from litecreds.config import exit_on_config_error

    with exit_on_config_error():
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - load settings now to report bad config in one line
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
