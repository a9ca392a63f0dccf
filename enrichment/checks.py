from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_providers(app_configs, **kwargs):
    from enrichment.providers.registry import SETTING, load_providers

    try:
        load_providers()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint=f"Fix settings.{SETTING}.", id="enrichment.E001")]
    return []
