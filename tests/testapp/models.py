"""Models used only by the tests and benchmarks of EncryptedJSONField."""

import uuid

from django.db import models

from litecreds.fields import EncryptedJSONField, SealedQuerySet


class Vault(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, default="")
    secret = EncryptedJSONField(null=True, blank=True)
    other = EncryptedJSONField(default=dict, blank=True)
    touched = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SealedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class VaultRef(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vault = models.ForeignKey(Vault, on_delete=models.CASCADE, related_name="refs")
    note = EncryptedJSONField(null=True, blank=True)

    objects = SealedQuerySet.as_manager()


class SealedCredential(models.Model):
    """Shaped like a credential: one encrypted field among plain ones (benchmark)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    provider = models.CharField(max_length=50, default="azure")
    secrets = EncryptedJSONField(default=dict)
    params = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SealedQuerySet.as_manager()


class PlainCredential(models.Model):
    """SealedCredential with a plain JSONField for the secrets: the benchmark's baseline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    provider = models.CharField(max_length=50, default="azure")
    secrets = models.JSONField(default=dict)
    params = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)
