from django.contrib import admin
from django.urls import path

from litecreds import views
from models_registry.wizard import AddModelWizard

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", views.home, name="home"),
    path("models/add/", AddModelWizard.as_view(), name="add_model"),
    path("admin/", admin.site.urls),
]
