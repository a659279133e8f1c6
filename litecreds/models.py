from django.conf import settings
from django.db import models


class Tracked(models.Model):
    """When a row was created and last changed, and by whom."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """Who did what to which object, when, from where, and how it ended. Never a secret value:
    ``fields`` holds field names only and ``message`` is written by litecreds, not the user."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150, help_text="A user name, or the OS user of a command.")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20)  # admin, wizard, command
    action = models.CharField(
        max_length=20, db_index=True
    )  # create, update, delete, rotate, import, test, export
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    fields = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=20, default="ok")  # ok, failed, refused
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_repr}"
