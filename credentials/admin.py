from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from credentials.catalog import BY_SLUG, PROVIDERS
from credentials.forms import CLEAR_SUFFIX, FILE_SUFFIX, ProviderChoiceForm, credential_form_class
from credentials.models import Credential
from credentials.services import (
    ChangedSinceOpened,
    credential_delete,
    credential_write,
    stored_secrets,
    with_usage,
)

sensitive_post = method_decorator(sensitive_post_parameters())


class ProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(p.slug, p.label) for p in PROVIDERS]

    def queryset(self, request, queryset):
        return queryset.filter(provider=self.value()) if self.value() else queryset


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "provider_label",
        "secrets_preview",
        "deployment_count",
        "updated_at",
        "updated_by",
    )
    list_filter = (ProviderFilter,)
    search_fields = ("name",)
    list_select_related = ("updated_by",)
    change_form_template = "admin/credentials/credential/change_form.html"

    class Media:
        js = ("credentials/credential_form.js",)
        css = {"all": ("credentials/credential_form.css",)}

    # --- the list: never decrypts, counts usage in the same query ----------------------------
    def get_queryset(self, request):
        return with_usage(super().get_queryset(request))

    @admin.display(description="provider", ordering="provider")
    def provider_label(self, obj):
        spec = BY_SLUG.get(obj.provider)
        return spec.label if spec else f"{obj.provider} (unknown)"

    @admin.display(description="secrets")
    def secrets_preview(self, obj):
        return obj.masked_summary()

    @admin.display(description="deployments", ordering="deployment_count")
    def deployment_count(self, obj):
        return obj.deployment_count

    # --- forms ---------------------------------------------------------------------------------
    def provider_for(self, request, obj=None):
        if obj is not None:
            return BY_SLUG.get(obj.provider)
        return BY_SLUG.get(request.POST.get("provider") or request.GET.get("provider") or "")

    def get_form(self, request, obj=None, change=False, **kwargs):
        spec = self.provider_for(request, obj) or PROVIDERS[0]
        kwargs["form"] = credential_form_class(spec)
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        spec = self.provider_for(request, obj) or PROVIDERS[0]
        if obj is not None and not self.has_change_permission(request, obj):
            return [
                (None, {"fields": ["name", "provider_label", "description_display"]}),
                self.view_fieldset(),
            ]
        catalog = []
        form_fields = credential_form_class(spec).base_fields
        stored = obj.masked if obj is not None else {}
        for f in spec.fields:
            clear = f.key + CLEAR_SUFFIX if f.key in stored else None
            catalog += [k for k in (f.key, f.key + FILE_SUFFIX, clear) if k in form_fields]
        fieldsets = [
            (
                None,
                {
                    "fields": [
                        "name",
                        "provider" if obj is None else "provider_label",
                        "description",
                        "opened_version",
                    ]
                },
            ),
            (f"{spec.label} settings", {"fields": catalog, "classes": ["provider-fields"]}),
            ("Metadata", {"fields": ["metadata"], "classes": ["collapse"]}),
        ]
        if obj is not None:
            fieldsets.append(self.view_fieldset())
        return fieldsets

    def view_fieldset(self):
        return ("Stored", {"fields": ["settings_display", "secrets_preview", "deployments_display"]})

    def get_readonly_fields(self, request, obj=None):
        readonly = ["settings_display", "secrets_preview", "deployments_display"]
        if obj is not None:
            readonly += ["provider", "provider_label", "description_display"]
        return readonly

    @admin.display(description="description")
    def description_display(self, obj):
        return obj.description or "—"

    @admin.display(description="settings")
    def settings_display(self, obj):
        if not obj.params:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}: {}", sorted(obj.params.items()))

    @admin.display(description="used by")
    def deployments_display(self, obj):
        deployments = list(obj.deployments.order_by("model_name")[:50])
        if not deployments:
            return "no model deployments"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}</a>',
            (
                (reverse("admin:models_registry_modeldeployment_change", args=[d.pk]), str(d))
                for d in deployments
            ),
        )

    # --- views ---------------------------------------------------------------------------------
    @sensitive_post
    def add_view(self, request, form_url="", extra_context=None):
        if self.provider_for(request) is None:
            return self.choose_provider_view(request)
        return super().add_view(request, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ChangedSinceOpened as exc:  # lost the race between the form check and the write
            self.message_user(request, exc.messages[0], messages.ERROR)
            return redirect(request.get_full_path())

    @sensitive_post
    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            problem = stored_secrets(obj).problem
            if problem:
                self.message_user(
                    request,
                    f"The stored secrets cannot be opened: {problem}. "
                    "Enter them again and save to repair this credential.",
                    messages.WARNING,
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def choose_provider_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Add credential: choose the provider",
            "opts": self.model._meta,
            "form": ProviderChoiceForm(request.GET or None),
            "media": self.media,
        }
        return TemplateResponse(request, "admin/credentials/credential/choose_provider.html", context)

    def save_model(self, request, obj, form, change):
        credential_write(form.prepared, actor=request.user)

    def delete_model(self, request, obj):
        credential_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for credential in queryset:
            credential_delete(credential, actor=request.user)

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/test/",
                self.admin_site.admin_view(self.test_connection_view),
                name="credentials_credential_test",
            )
        ]
        return urls + super().get_urls()

    def test_connection_view(self, request, object_id):
        return require_POST(self._test_connection)(request, object_id)

    def _test_connection(self, request, object_id):
        credential = self.get_object(request, object_id)
        if credential is None:
            raise Http404("No such credential")
        if not self.has_view_permission(request, credential):
            raise PermissionDenied
        from credentials.probe import probe_credential

        result = probe_credential(credential, actor=request.user)
        self.message_user(request, result.message, messages.SUCCESS if result.ok else messages.ERROR)
        return redirect("admin:credentials_credential_change", credential.pk)
