import logging

from django.apps import AppConfig

logger = logging.getLogger("litecreds.keyring")


class LitecredsConfig(AppConfig):
    name = "litecreds"
    verbose_name = "litecreds"

    def ready(self) -> None:
        from litecreds import checks  # noqa: F401 - registers the system checks
        from litecreds.keyring import describe_primary

        logger.info("litecreds: %s", describe_primary())
