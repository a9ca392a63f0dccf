"""The API's URLs, included at the site root by ``config/urls.py``:

``/api/v1/...`` the endpoints, ``/api/schema/`` the OpenAPI 3 schema,
``/api/docs/`` Swagger UI (served from our own static files), ``/healthz`` (liveness) and
``/readyz`` (readiness).
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from enrichment.api import experiment_views, ticket_views, views

app_name = "api"

# ``path`` (not ``str``) so that a malformed id with a slash in it ("../etc")
# reaches the view and gets a 400 rather than an unexplained 404.
_CUSTOMER = "api/v1/customers/<path:customer_id>/context/"

urlpatterns = [
    path(_CUSTOMER, views.CustomerContextView.as_view(), name="context"),
    path(_CUSTOMER + "prompt/", views.CustomerContextPromptView.as_view(), name="context-prompt"),
    path(_CUSTOMER + "summary/", views.CustomerContextSummaryView.as_view(), name="context-summary"),
    path(_CUSTOMER + "invalidate/", views.CustomerContextInvalidateView.as_view(), name="context-invalidate"),
    path(_CUSTOMER + "changes/", views.CustomerContextChangesView.as_view(), name="context-changes"),
    path("api/v1/context/", views.ContextLookupView.as_view(), name="context-lookup"),
    path("api/v1/tickets/<path:ticket_id>/context/", ticket_views.TicketContextView.as_view(), name="ticket-context"),
    path("api/v1/tickets/<path:ticket_id>/context/prompt/", ticket_views.TicketContextPromptView.as_view(), name="ticket-context-prompt"),
    path("api/v1/contexts/batch/", views.ContextBatchView.as_view(), name="context-batch"),
    path("api/v1/customers/", views.CustomerListView.as_view(), name="customers"),
    path("api/v1/outcomes/", experiment_views.OutcomesView.as_view(), name="outcomes"),
    path("api/v1/experiments/<str:name>/results/", experiment_views.ExperimentResultsView.as_view(), name="experiment-results"),
    path("api/v1/events/", views.EventsIngestView.as_view(), name="events"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("healthz", views.HealthView.as_view(), name="healthz"),
    path("readyz", views.ReadyView.as_view(), name="readyz"),
]
