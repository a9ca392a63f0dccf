"""System checks of the enrichment app (imported by ``EnrichmentConfig.ready()``)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from enrichment.experiments import strategies
from enrichment.providers.registry import SETTING, load_providers
from enrichment.rules.flags import DEFAULT_THRESHOLDS
from enrichment.rules.scoring import DEFAULT_WEIGHTS


@checks.register()
def check_providers(app_configs, **kwargs):
    """enrichment.E001: ``ENRICHMENT_PROVIDERS`` loads: every path imports a
    ContextProvider subclass, keys are unique, dependencies have no cycle, and
    a provider with a key of its own declares a valid extension section (a
    frozen dataclass with a default for every field that survives the cache's
    JSON round trip)."""
    try:
        load_providers()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint=f"Fix settings.{SETTING}.", id="enrichment.E001")]
    return []


@checks.register()
def check_scoring_settings(app_configs, **kwargs):
    errors = []
    for setting, known, code in (
        ("ENRICHMENT_HEALTH_WEIGHTS", DEFAULT_WEIGHTS, "enrichment.E002"),
        ("ENRICHMENT_FLAG_THRESHOLDS", DEFAULT_THRESHOLDS, "enrichment.E003"),
    ):
        given = getattr(settings, setting, {}) or {}
        unknown = sorted(set(given) - set(known))
        if unknown:
            errors.append(
                checks.Error(
                    f"{setting} has unknown keys: {', '.join(unknown)}",
                    hint=f"Known keys: {', '.join(sorted(known))}.",
                    id=code,
                )
            )
        bad = sorted(key for key, value in given.items() if not isinstance(value, (int, float)) or value < 0)
        if bad:
            errors.append(checks.Error(f"{setting} values must be non-negative numbers: {', '.join(bad)}", id=code))
    return errors


@checks.register()
def check_strategies(app_configs, **kwargs):
    """enrichment.E010: ``CONTEXT_STRATEGIES`` loads (known options and parts, a ``default``)."""
    try:
        strategies.strategies()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint=f"Fix settings.{strategies.SETTING}.", id="enrichment.E010")]
    return []
