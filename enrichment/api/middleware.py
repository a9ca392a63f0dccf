"""Static files (Swagger UI's assets, the admin's) served by WhiteNoise, so
``/api/docs/`` works under gunicorn without DEBUG and without a CDN."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, quiet when ``collectstatic`` has not been run: files then come
    straight from the apps (``WHITENOISE_USE_FINDERS``, on by default)."""

    def __init__(self, get_response=None, settings=settings):
        root = settings.STATIC_ROOT
        if root and not Path(root).is_dir():
            settings = _Without(settings, "STATIC_ROOT")
        super().__init__(get_response, settings=settings)


class _Without:
    """A view of the settings with one of them unset."""

    def __init__(self, wrapped, name: str):
        self._wrapped = wrapped
        self._name = name

    def __getattr__(self, name: str):
        if name == self._name:
            return None
        return getattr(self._wrapped, name)
