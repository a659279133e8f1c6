from django.contrib import admin

from litecreds.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "source", "action", "object_type", "object_repr", "outcome", "message")
    list_filter = ("action", "source", "outcome", "object_type")
    search_fields = ("actor", "object_repr", "object_id", "message")
    date_hierarchy = "at"
    list_select_related = ("actor_user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
