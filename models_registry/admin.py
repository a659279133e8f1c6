import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from credentials.admin import ProviderFilter
from credentials.catalog import BY_SLUG, PROVIDERS
from credentials.forms import CLEAR_SUFFIX, FILE_SUFFIX
from credentials.models import Credential
from models_registry.forms import CreateCredentialForm, deployment_form_class
from models_registry.models import MODES, ModelDeployment
from models_registry.services import (
    credential_from_deployment,
    deployment_delete,
    deployment_write,
    masked_params,
    probe_deployment,
)

sensitive_post = method_decorator(sensitive_post_parameters())


class ModeFilter(admin.SimpleListFilter):
    title = "mode"
    parameter_name = "mode"

    def lookups(self, request, model_admin):
        return MODES

    def queryset(self, request, queryset):
        return queryset.filter(model_info__mode=self.value()) if self.value() else queryset


class CredentialFilter(admin.SimpleListFilter):
    """The credentials in use, read without their secrets."""

    title = "credential"
    parameter_name = "credential"

    def lookups(self, request, model_admin):
        used = Credential.objects.filter(deployments__isnull=False).distinct().order_by("name")
        return [
            ("inline", "inline (none)"),
            *((str(pk), name) for pk, name in used.values_list("pk", "name")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "inline":
            return queryset.filter(credential__isnull=True)
        if self.value():
            try:
                return queryset.filter(credential_id=uuid.UUID(self.value()))
            except ValueError:
                return queryset.none()
        return queryset


@admin.register(ModelDeployment)
class ModelDeploymentAdmin(admin.ModelAdmin):
    list_display = ("model_name", "litellm_model", "provider", "credential_link", "is_active", "mode_display")
    list_filter = (ProviderFilter, CredentialFilter, ModeFilter, "is_active")
    search_fields = ("model_name", "litellm_model", "credential__name")
    list_select_related = ("credential",)
    autocomplete_fields = ("credential",)
    readonly_fields = ("provider_display", "resolved_params")
    change_form_template = "admin/models_registry/modeldeployment/change_form.html"

    class Media:
        js = ("credentials/credential_form.js",)
        css = {"all": ("credentials/credential_form.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secrets", "credential__secrets")

    @admin.display(description="credential", ordering="credential__name")
    def credential_link(self, obj):
        if obj.credential_id is None:
            return "inline"
        url = reverse("admin:credentials_credential_change", args=[obj.credential_id])
        return format_html('<a href="{}">{}</a>', url, obj.credential.name)

    @admin.display(description="mode", ordering="model_info__mode")
    def mode_display(self, obj):
        return obj.mode or "—"

    @admin.display(description="provider")
    def provider_display(self, obj):
        spec = BY_SLUG.get(obj.provider)
        return f"{spec.label} ({obj.provider})" if spec else obj.provider

    @admin.display(description="resolved LiteLLM parameters (secrets masked)")
    def resolved_params(self, obj):
        return format_html_join(mark_safe("<br>"), "{}: {}", sorted(masked_params(obj).items()))

    # --- forms -----------------------------------------------------------------------------------
    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = deployment_form_class(BY_SLUG.get(obj.provider if obj else "") or PROVIDERS[0])
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["model_name"]})]
        spec = BY_SLUG.get(obj.provider) or PROVIDERS[0]
        base = [
            (None, {"fields": ["model_name", "provider_display", "litellm_model", "credential", "is_active"]})
        ]
        if not self.has_change_permission(request, obj):
            return [*base, ("Resolved", {"fields": ["resolved_params"]})]
        form_fields = deployment_form_class(spec).base_fields
        inline = []
        for f in spec.fields:
            clear = f.key + CLEAR_SUFFIX if f.key in obj.masked else None
            inline += [k for k in (f.key, f.key + FILE_SUFFIX, clear) if k in form_fields]
        return [
            *base,
            (f"Inline {spec.label} credentials (only without a shared credential)", {"fields": inline}),
            ("LiteLLM", {"fields": ["extra_params", "info"]}),
            ("Resolved", {"fields": ["resolved_params"]}),
        ]

    def save_model(self, request, obj, form, change):
        deployment_write(obj, actor=request.user)

    def delete_model(self, request, obj):
        deployment_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for deployment in queryset:
            deployment_delete(deployment, actor=request.user)

    # --- views -------------------------------------------------------------------------------------
    def add_view(self, request, form_url="", extra_context=None):
        return redirect("add_model")  # the Add Model wizard

    @sensitive_post
    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/test/",
                wrap(require_POST(self.test_view)),
                name="models_registry_modeldeployment_test",
            ),
            path(
                "<path:object_id>/create-credential/",
                wrap(sensitive_post_parameters()(self.create_credential_view)),
                name="models_registry_modeldeployment_create_credential",
            ),
            *super().get_urls(),
        ]

    def deployment_or_404(self, request, object_id):
        deployment = self.get_object(request, object_id)
        if deployment is None:
            raise Http404("No such model deployment")
        return deployment

    def test_view(self, request, object_id):
        deployment = self.deployment_or_404(request, object_id)
        if not self.has_view_permission(request, deployment):
            raise PermissionDenied
        result = probe_deployment(deployment, actor=request.user)
        self.message_user(request, result.message, messages.SUCCESS if result.ok else messages.ERROR)
        return redirect("admin:models_registry_modeldeployment_change", deployment.pk)

    def create_credential_view(self, request, object_id):
        deployment = self.deployment_or_404(request, object_id)
        if not (
            self.has_change_permission(request, deployment)
            and request.user.has_perm("credentials.add_credential")
        ):
            raise PermissionDenied
        if deployment.credential_id:
            self.message_user(request, "This deployment already uses a shared credential.", messages.WARNING)
            return redirect("admin:models_registry_modeldeployment_change", deployment.pk)
        form = CreateCredentialForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                credential = credential_from_deployment(
                    deployment, name=form.cleaned_data["name"], actor=request.user
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("name", message)
            else:
                self.message_user(
                    request,
                    format_html(
                        "Created the reusable credential “{}”; this deployment now uses it.", credential.name
                    ),
                    messages.SUCCESS,
                )
                return redirect("admin:models_registry_modeldeployment_change", deployment.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Create a reusable credential",
            "opts": self.model._meta,
            "original": deployment,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/models_registry/modeldeployment/create_credential.html", context
        )
