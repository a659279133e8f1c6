import uuid

from django.db import models

from credentials.models import Credential
from litecreds.fields import EncryptedJSONField, SealedQuerySet
from litecreds.models import Tracked

MODES = [
    ("chat", "chat"),
    ("completion", "completion"),
    ("embedding", "embedding"),
    ("image_generation", "image generation"),
    ("audio_transcription", "audio transcription"),
    ("audio_speech", "audio speech"),
    ("rerank", "rerank"),
]


class ModelDeployment(Tracked):
    """What a gateway routes to: a public model name served by a provider model."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    model_name = models.CharField("public name", max_length=200, db_index=True)
    provider = models.CharField(max_length=50)
    litellm_model = models.CharField("provider model", max_length=300)
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.PROTECT, related_name="deployments"
    )
    secrets = EncryptedJSONField(default=dict, blank=True, editable=False)
    params = models.JSONField(default=dict, blank=True)
    model_info = models.JSONField(default=dict, blank=True)
    masked = models.JSONField(default=dict, blank=True, editable=False)
    is_active = models.BooleanField(default=True)

    objects = SealedQuerySet.as_manager()

    class Meta:
        ordering = ["model_name", "litellm_model"]
        verbose_name = "model deployment"

    def __str__(self) -> str:
        return f"{self.model_name} → {self.litellm_model}"

    @property
    def mode(self) -> str:
        return self.model_info.get("mode", "")
