from django.contrib import admin

from models_registry.models import ModelDeployment


@admin.register(ModelDeployment)
class ModelDeploymentAdmin(admin.ModelAdmin):
    list_display = ("model_name", "litellm_model", "provider", "credential", "is_active")
    list_select_related = ("credential",)
    search_fields = ("model_name", "litellm_model")
