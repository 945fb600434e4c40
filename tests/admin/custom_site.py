"""A custom AdminSite with the RSMQ pages registered by hand (docs/admin.md)."""

from django.contrib.admin import AdminSite

from django_rsmq.admin import register


class OpsSite(AdminSite):
    site_header = "Ops console"


site = OpsSite(name="ops")
register(site)
