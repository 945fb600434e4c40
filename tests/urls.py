from django.contrib import admin
from django.urls import include, path

from tests.admin.custom_site import site as custom_site

urlpatterns = [
    path("admin/", admin.site.urls),
    path("custom-admin/", custom_site.urls),
    path("rsmq/", include("django_rsmq.urls")),
]
