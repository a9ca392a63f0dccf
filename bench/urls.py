"""The project's URLs plus the floor for the API figure: a bare DRF view
returning the same bytes from memory (loaded once per process from Redis,
where the benchmark puts the real endpoint's response body)."""

import redis
from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns

BODY_KEY = "bench:bare-body"
_BODY: dict[str, bytes] = {}


class BareView(APIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()

    def get(self, request, customer_id: str):
        body = _BODY.get("body")
        if body is None:
            body = _BODY["body"] = redis.Redis.from_url(settings.REDIS_URL).get(BODY_KEY) or b"{}"
        return HttpResponse(body, content_type="application/json")


urlpatterns = [*project_urlpatterns, path("bench/bare/<str:customer_id>/", BareView.as_view())]
