"""Loads providers from ``settings.ENRICHMENT_PROVIDERS`` (dotted paths), the
way Django loads cache backends and DRF loads authentication classes."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from enrichment.context.enriched import SECTION_TYPES
from enrichment.providers.base import ContextProvider

SETTING = "ENRICHMENT_PROVIDERS"


def load_providers(paths: Sequence[str] | None = None) -> list[ContextProvider]:
    """Import, validate and instantiate the providers, ordered so that derived
    providers come after the sections they depend on."""
    if paths is None:
        paths = getattr(settings, SETTING, ())
    if isinstance(paths, str) or not isinstance(paths, (list, tuple)):
        raise ImproperlyConfigured(f"{SETTING} must be a list of dotted paths to ContextProvider classes.")
    providers: list[ContextProvider] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"{SETTING} names {path!r}, which cannot be imported: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, ContextProvider)):
            raise ImproperlyConfigured(f"{SETTING} names {path!r}, which is not a ContextProvider subclass.")
        if cls.key not in SECTION_TYPES:
            raise ImproperlyConfigured(f"{SETTING}: {path} has key {cls.key!r}; expected one of {sorted(SECTION_TYPES)}.")
        if cls.key in seen:
            raise ImproperlyConfigured(f"{SETTING}: {path} and {seen[cls.key]} both provide the section {cls.key!r}.")
        seen[cls.key] = path
        providers.append(cls())
    return _dependency_order(providers)


def _dependency_order(providers: list[ContextProvider]) -> list[ContextProvider]:
    by_key = {p.key: p for p in providers}
    ordered: list[ContextProvider] = []
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(provider: ContextProvider) -> None:
        if provider.key in done:
            return
        if provider.key in visiting:
            raise ImproperlyConfigured(f"{SETTING}: dependency cycle through {provider.key!r}.")
        visiting.add(provider.key)
        for dep in provider.depends_on:
            if dep in by_key:
                visit(by_key[dep])
        visiting.discard(provider.key)
        done.add(provider.key)
        ordered.append(provider)

    for provider in providers:
        visit(provider)
    return ordered
