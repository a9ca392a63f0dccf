"""Loads providers from ``settings.ENRICHMENT_PROVIDERS`` (dotted paths), the
way Django loads cache backends and DRF loads authentication classes.

A provider whose key is not a built-in section declares an extension section;
loading it registers that section (dataclass, title, audience, renderers) in
:mod:`enrichment.context.registry`, which the codec, the cache, the API schema
and the prompt renderer read. This module also installs the loader that
registers the configured sections on first use, and forgets them when the
setting changes (``setting_changed``, e.g. ``override_settings`` in tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from enrichment.context.registry import (
    BUILTIN_SECTIONS,
    register_section,
    reset_sections,
    section_problem,
    set_section_loader,
)
from enrichment.providers.base import ContextProvider

SETTING = "ENRICHMENT_PROVIDERS"


def load_providers(paths: Sequence[str] | None = None) -> list[ContextProvider]:
    """Import, validate and instantiate the providers, ordered so that derived
    providers come after the sections they depend on, and register their
    extension sections. ``paths`` defaults to the setting."""
    if paths is None:
        paths = getattr(settings, SETTING, ())
    if isinstance(paths, str) or not isinstance(paths, (list, tuple)):
        raise ImproperlyConfigured(f"{SETTING} must be a list of dotted paths to ContextProvider classes.")
    providers: list[ContextProvider] = []
    seen: dict[str, str] = {}
    for path in paths:
        cls = _provider_class(path)
        if cls.key in seen:
            raise ImproperlyConfigured(f"{SETTING}: {path} and {seen[cls.key]} both provide the section {cls.key!r}.")
        seen[cls.key] = path
        providers.append(cls())
    ordered = _dependency_order(providers)
    for provider in ordered:
        if provider.key not in BUILTIN_SECTIONS:
            register_extension(provider)
    return ordered


def _provider_class(path: Any) -> type[ContextProvider]:
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{SETTING} names {path!r}, which cannot be imported: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, ContextProvider)):
        raise ImproperlyConfigured(f"{SETTING} names {path!r}, which is not a ContextProvider subclass.")
    if cls.key not in BUILTIN_SECTIONS:
        problem = section_problem(cls.key, cls.section)
        if problem is not None:
            raise ImproperlyConfigured(
                f"{SETTING}: {path} has key {cls.key!r}, which is not a built-in section "
                f"({', '.join(BUILTIN_SECTIONS)}), so it declares an extension section, but {problem}."
            )
    return cls


def register_extension(provider: ContextProvider) -> None:
    """Register the extension section of a (loaded) provider whose key is not
    a built-in section."""
    register_section(
        provider.key,
        provider.section,
        title=provider.title,
        customer_facing=provider.customer_facing,
        prompt_lines=provider.prompt_lines,
        admin_rows=provider.admin_rows,
    )


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


def _load_configured_sections() -> None:
    load_providers()


def _on_setting_changed(*, setting: str, **_kwargs: Any) -> None:
    if setting == SETTING:
        reset_sections()


set_section_loader(_load_configured_sections)
setting_changed.connect(_on_setting_changed)
