"""A URLconf with a view that fails, for the JSON 500 test."""

from django.urls import include, path


def crash(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/v1/crash/", crash),
    path("", include("config.urls")),
]
