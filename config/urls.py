from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Customer context"
admin.site.site_title = "Customer context admin"
admin.site.index_title = "Accounts, health and support"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("enrichment.api.urls")),  # /api/v1/..., /api/schema/, /api/docs/, /healthz
]
