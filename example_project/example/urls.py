"""The admin (with its RSMQ section, no extra URL needed) and the shop's send page."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("rsmq/", include("django_rsmq.urls")),  # stats.json and metrics outside the admin
    path("", include("shop.urls")),
]
