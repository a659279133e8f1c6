from django.contrib import admin
from django.urls import path

from litecreds import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
]
