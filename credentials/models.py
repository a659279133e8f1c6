import uuid

from django.db import models
from django.db.models.functions import Lower

from litecreds.fields import EncryptedJSONField, SealedQuerySet
from litecreds.models import Tracked


class Credential(Tracked):
    """A named set of provider credentials, reused by many model deployments.

    Secret fields live only in ``secrets`` (encrypted); the other fields in ``params``
    (plain, queryable); ``masked`` holds the previews computed when the secrets were saved, so
    lists never decrypt.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, help_text="Unique, case-insensitively. Spaces and / are fine.")
    provider = models.CharField(max_length=50)
    secrets = EncryptedJSONField(default=dict, blank=True, editable=False)
    params = models.JSONField(default=dict, blank=True, editable=False)
    info = models.JSONField(default=dict, blank=True, editable=False)
    masked = models.JSONField(default=dict, blank=True, editable=False)

    objects = SealedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="credential_name_unique_ci")]

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        return self.info.get("description", "")

    def masked_summary(self) -> str:
        return ", ".join(f"{key} {preview}" for key, preview in sorted(self.masked.items())) or "—"
