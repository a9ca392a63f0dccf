from django.contrib import admin
from django.urls import include, path

from enrichment.mcp_server.http import McpView
from enrichment.ops.metrics import metrics_view

admin.site.site_header = "Customer context"
admin.site.site_title = "Customer context admin"
admin.site.index_title = "Accounts, health and support"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),  # Prometheus; see enrichment/metrics.py for who may read it
    path("mcp", McpView.as_view(), name="mcp"),  # the MCP server, streamable HTTP (enrichment/mcp_server/)
    path("", include("enrichment.api.urls")),  # /api/v1/..., /api/schema/, /api/docs/, /healthz
]
