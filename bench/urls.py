"""The project's URLs plus the floor for the API figure: a bare DRF view
returning the same bytes from memory."""

from django.http import HttpResponse
from django.urls import path
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns

BARE_BODY = {"body": b"{}"}


class BareView(APIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()

    def get(self, request, customer_id: str):
        return HttpResponse(BARE_BODY["body"], content_type="application/json")


urlpatterns = [*project_urlpatterns, path("bench/bare/<str:customer_id>/", BareView.as_view())]
