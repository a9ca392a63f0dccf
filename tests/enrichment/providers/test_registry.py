"""Provider loading from settings.ENRICHMENT_PROVIDERS
(enrichment/providers/registry.py), the extension sections it registers
(enrichment/context/registry.py) and the system check enrichment.E001
(enrichment/checks.py). No database."""

from __future__ import annotations

import dataclasses

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from enrichment.context.registry import (
    BUILTIN_SECTIONS,
    InvalidSection,
    extension_sections,
    register_section,
    reset_sections,
    section_spec,
    section_types,
)
from enrichment.context.sections import AccountHealth, CustomerIntelligence, EngagementMetrics, SubscriptionDetails, SupportHistory
from enrichment.providers.base import ContextProvider
from enrichment.providers.internal import (
    AccountHealthProvider,
    CustomerIntelligenceProvider,
    EngagementMetricsProvider,
    SubscriptionDetailsProvider,
    SupportHistoryProvider,
)
from enrichment.providers.registry import SETTING, load_providers

HERE = __name__  # "tests.enrichment.providers.test_registry"

DEFAULT_PATHS = [
    "enrichment.providers.internal.CustomerIntelligenceProvider",
    "enrichment.providers.internal.EngagementMetricsProvider",
    "enrichment.providers.internal.SupportHistoryProvider",
    "enrichment.providers.internal.SubscriptionDetailsProvider",
    "enrichment.providers.internal.AccountHealthProvider",
]


# --- small providers referred to by dotted path ------------------------------------------------


class NotAProvider:
    key = "engagement_metrics"


def not_a_class():
    return None


class UnknownKeyProvider(ContextProvider):
    key = "horoscope"
    section = dict


class EmptyKeyProvider(ContextProvider):
    pass


class SecondEngagementProvider(ContextProvider):
    key = "engagement_metrics"
    section = EngagementMetrics


class CycleIntelProvider(ContextProvider):
    key = "customer_intelligence"
    section = CustomerIntelligence
    depends_on = ("support_history",)


class CycleSupportProvider(ContextProvider):
    key = "support_history"
    section = SupportHistory
    depends_on = ("customer_intelligence",)


class SelfDependentProvider(ContextProvider):
    key = "subscription_details"
    section = SubscriptionDetails
    depends_on = ("subscription_details",)


class DerivedFirstProvider(ContextProvider):
    key = "account_health"
    section = AccountHealth
    depends_on = ("engagement_metrics", "support_history", "company_enrichment")


class PlainEngagementProvider(ContextProvider):
    key = "engagement_metrics"
    section = EngagementMetrics


class PlainSupportProvider(ContextProvider):
    key = "support_history"
    section = SupportHistory


@dataclasses.dataclass(frozen=True)
class Nps:
    score: int | None = None
    responses: int = 0


class NpsProvider(ContextProvider):
    key = "nps"
    section = Nps
    title = "NPS"
    depends_on = ("support_history",)

    def prompt_lines(self, section: Nps) -> list[str]:
        return [f"score {section.score}"]


class OtherNpsProvider(NpsProvider):
    pass


@dataclasses.dataclass
class MutableSection:
    score: int = 0


class MutableSectionProvider(ContextProvider):
    key = "mutable"
    section = MutableSection


@dataclasses.dataclass(frozen=True)
class NoDefaultSection:
    score: int
    note: str = ""


class NoDefaultProvider(ContextProvider):
    key = "no_default"
    section = NoDefaultSection


@dataclasses.dataclass(frozen=True)
class SetSection:
    tags: frozenset[str] = frozenset({"a"})


class NotCacheableProvider(ContextProvider):
    key = "not_cacheable"
    section = SetSection


class ReservedKeyProvider(ContextProvider):
    key = "flags"
    section = Nps


class BadKeyProvider(ContextProvider):
    key = "NPS Survey"
    section = Nps


class CycleWithExtensionProvider(ContextProvider):
    key = "support_history"
    section = SupportHistory
    depends_on = ("nps",)


@pytest.fixture(autouse=True)
def _forget_registered_sections():
    yield
    reset_sections()


def path(cls_or_name) -> str:
    name = cls_or_name if isinstance(cls_or_name, str) else cls_or_name.__name__
    return f"{HERE}.{name}"


def assert_dependency_order(providers):
    position = {p.key: i for i, p in enumerate(providers)}
    for provider in providers:
        for dep in provider.depends_on:
            if dep in position:
                assert position[dep] < position[provider.key], f"{provider.key} loaded before its input {dep}"


# --- defaults ---------------------------------------------------------------------------------
# The default setting holds the five internal providers; other providers (external
# vendors, real-time) may be listed after them, so these tests look at the five.

INTERNAL_KEYS = {"customer_intelligence", "engagement_metrics", "support_history", "subscription_details", "account_health"}


def test_default_setting_lists_the_five_internal_providers_first(settings):
    assert list(getattr(settings, SETTING))[:5] == DEFAULT_PATHS


def test_default_providers_load_the_five_internal_ones_in_dependency_order():
    providers = load_providers()
    internal = [p for p in providers if p.key in INTERNAL_KEYS]
    assert len(internal) == 5
    assert {type(p) for p in internal} == {
        CustomerIntelligenceProvider,
        EngagementMetricsProvider,
        SupportHistoryProvider,
        SubscriptionDetailsProvider,
        AccountHealthProvider,
    }
    assert all(isinstance(p, ContextProvider) for p in providers)
    assert len({p.key for p in providers}) == len(providers)
    assert_dependency_order(providers)
    keys = [p.key for p in internal]
    # customer intelligence reads the subscription; account health reads the four others
    assert keys.index("subscription_details") < keys.index("customer_intelligence")
    assert keys[-1] == "account_health"


def test_five_internal_providers_alone_load_in_dependency_order_otherwise_settings_order():
    keys = [p.key for p in load_providers(DEFAULT_PATHS)]
    assert keys == ["subscription_details", "customer_intelligence", "engagement_metrics", "support_history", "account_health"]


def test_explicit_paths_argument_is_used_instead_of_settings():
    providers = load_providers([path(PlainEngagementProvider)])
    assert [type(p) for p in providers] == [PlainEngagementProvider]


def test_empty_list_loads_no_provider():
    assert load_providers([]) == []


def test_tuple_of_paths_is_accepted():
    assert [p.key for p in load_providers(tuple(DEFAULT_PATHS))][-1] == "account_health"


def test_derived_provider_listed_first_is_moved_after_its_inputs_and_missing_inputs_ignored():
    providers = load_providers([path(DerivedFirstProvider), path(PlainSupportProvider), path(PlainEngagementProvider)])
    keys = [p.key for p in providers]
    assert sorted(keys) == ["account_health", "engagement_metrics", "support_history"]
    assert keys[-1] == "account_health"
    assert_dependency_order(providers)


def test_load_providers_returns_fresh_instances():
    first, second = load_providers(DEFAULT_PATHS), load_providers(DEFAULT_PATHS)
    assert all(a is not b for a, b in zip(first, second, strict=True))


# --- ImproperlyConfigured naming the setting ------------------------------------------------------


def test_unimportable_module_path_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS") as exc:
        load_providers(["enrichment.providers.no_such_module.Provider"])
    assert "no_such_module" in str(exc.value)


def test_missing_class_in_existing_module_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS") as exc:
        load_providers([path("DoesNotExist")])
    assert "DoesNotExist" in str(exc.value)


def test_path_without_a_dot_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS"):
        load_providers(["NoDotsHere"])


def test_class_that_is_not_a_context_provider_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS") as exc:
        load_providers([path(NotAProvider)])
    assert "NotAProvider" in str(exc.value)
    assert "ContextProvider" in str(exc.value)


def test_function_instead_of_class_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS"):
        load_providers([path("not_a_class")])


def test_unknown_section_key_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS") as exc:
        load_providers([path(UnknownKeyProvider)])
    assert "horoscope" in str(exc.value)


def test_base_class_with_empty_key_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS"):
        load_providers([path(EmptyKeyProvider)])


def test_two_providers_for_the_same_key_are_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS") as exc:
        load_providers([*DEFAULT_PATHS, path(SecondEngagementProvider)])
    message = str(exc.value)
    assert "engagement_metrics" in message
    assert "SecondEngagementProvider" in message
    assert "EngagementMetricsProvider" in message


def test_same_path_listed_twice_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS"):
        load_providers([DEFAULT_PATHS[0], DEFAULT_PATHS[0]])


def test_dependency_cycle_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS") as exc:
        load_providers([path(CycleIntelProvider), path(CycleSupportProvider)])
    assert "cycle" in str(exc.value)


def test_provider_depending_on_itself_is_a_cycle():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS"):
        load_providers([path(SelfDependentProvider)])


@pytest.mark.parametrize("value", ["enrichment.providers.internal.EngagementMetricsProvider", 42, {"a": "b"}])
def test_setting_that_is_not_a_list_is_improperly_configured(value):
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS"):
        load_providers(value)


@pytest.mark.parametrize("value", ["enrichment.providers.internal.EngagementMetricsProvider", None])
def test_string_or_none_setting_in_settings_is_improperly_configured(settings, value):
    settings.ENRICHMENT_PROVIDERS = value
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS"):
        load_providers()


# --- extension sections ----------------------------------------------------------------------------


def test_provider_with_a_key_of_its_own_and_a_frozen_dataclass_is_valid_and_registered():
    providers = load_providers([*DEFAULT_PATHS, path(NpsProvider)])
    assert providers[-1].key == "nps"
    assert_dependency_order(providers)
    assert section_types()["nps"] is Nps
    spec = section_spec("nps")
    assert (spec.key, spec.section, spec.title, spec.customer_facing) == ("nps", Nps, "NPS", False)
    assert spec.prompt_lines(Nps(score=40)) == ["score 40"]
    assert spec.admin_rows(Nps(score=40, responses=3)) == [("Score", "40"), ("Responses", "3")]
    assert list(section_types())[: len(BUILTIN_SECTIONS)] == list(BUILTIN_SECTIONS)


def test_built_in_keys_register_nothing():
    load_providers(DEFAULT_PATHS)
    assert section_types() == dict(BUILTIN_SECTIONS)
    assert section_spec("support_history") is None


def test_title_defaults_to_the_humanised_key():
    assert register_section("nps_survey", Nps).title == "Nps survey"


def test_the_setting_is_loaded_on_first_use_and_forgotten_when_it_changes(settings):
    settings.ENRICHMENT_PROVIDERS = [*DEFAULT_PATHS, path(NpsProvider)]
    assert "nps" in extension_sections()  # registered by the loader, no service built
    settings.ENRICHMENT_PROVIDERS = list(DEFAULT_PATHS)
    assert "nps" not in extension_sections()


@pytest.mark.parametrize(
    ("provider", "words"),
    [
        (MutableSectionProvider, ("mutable", "not a frozen dataclass")),
        (NoDefaultProvider, ("no_default", "no default for score")),
        (NotCacheableProvider, ("not_cacheable", "JSON round trip")),
        (ReservedKeyProvider, ("'flags'", "already a top-level key")),
        (BadKeyProvider, ("NPS Survey", "lowercase")),
        (UnknownKeyProvider, ("horoscope", "not a dataclass")),
    ],
)
def test_invalid_extension_sections_are_improperly_configured(provider, words):
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS") as exc:
        load_providers([*DEFAULT_PATHS, path(provider)])
    for word in words:
        assert word in str(exc.value)
    assert extension_sections() == {}


def test_register_section_validates_too():
    with pytest.raises(InvalidSection, match="frozen"):
        register_section("mutable", MutableSection)


def test_two_providers_for_the_same_extension_key_are_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="ENRICHMENT_PROVIDERS") as exc:
        load_providers([path(NpsProvider), path(OtherNpsProvider)])
    assert "OtherNpsProvider" in str(exc.value) and "'nps'" in str(exc.value)


def test_dependency_cycle_through_an_extension_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="cycle"):
        load_providers([path(NpsProvider), path(CycleWithExtensionProvider)])


# --- the system check ----------------------------------------------------------------------------


def enrichment_errors() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks() if str(m.id or "").startswith("enrichment.")]


def test_system_check_reports_nothing_with_default_settings():
    assert enrichment_errors() == []


def test_system_check_reports_nothing_with_the_five_internal_providers(settings):
    settings.ENRICHMENT_PROVIDERS = list(DEFAULT_PATHS)
    assert enrichment_errors() == []


def test_system_check_reports_nothing_with_a_valid_extension_provider(settings):
    settings.ENRICHMENT_PROVIDERS = [*DEFAULT_PATHS, path(NpsProvider)]
    assert enrichment_errors() == []


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param("enrichment.providers.internal.EngagementMetricsProvider", id="string"),
        pytest.param(["enrichment.providers.no_such_module.Provider"], id="unimportable"),
        pytest.param([f"{HERE}.NotAProvider"], id="not-a-provider"),
        pytest.param([f"{HERE}.UnknownKeyProvider"], id="unknown-key"),
        pytest.param([*DEFAULT_PATHS, f"{HERE}.SecondEngagementProvider"], id="duplicate-key"),
        pytest.param([f"{HERE}.CycleIntelProvider", f"{HERE}.CycleSupportProvider"], id="cycle"),
        pytest.param([*DEFAULT_PATHS, f"{HERE}.MutableSectionProvider"], id="mutable-section"),
        pytest.param([*DEFAULT_PATHS, f"{HERE}.NoDefaultProvider"], id="section-without-defaults"),
        pytest.param([*DEFAULT_PATHS, f"{HERE}.NotCacheableProvider"], id="section-not-cacheable"),
        pytest.param([*DEFAULT_PATHS, f"{HERE}.ReservedKeyProvider"], id="reserved-key"),
    ],
)
def test_system_check_reports_e001_for_broken_setting(settings, broken):
    settings.ENRICHMENT_PROVIDERS = broken
    errors = enrichment_errors()
    assert [e.id for e in errors] == ["enrichment.E001"]
    error = errors[0]
    assert error.level == checks.ERROR
    assert "ENRICHMENT_PROVIDERS" in error.msg
    assert "ENRICHMENT_PROVIDERS" in (error.hint or "")


def test_manage_py_check_fails_on_broken_setting(settings):
    settings.ENRICHMENT_PROVIDERS = [f"{HERE}.UnknownKeyProvider"]
    with pytest.raises(SystemCheckError, match=r"enrichment\.E001"):
        call_command("check")


def test_manage_py_check_passes_with_default_setting():
    call_command("check")


def test_system_check_rejects_unknown_weight_and_threshold_keys(settings):
    from django.core.checks import run_checks

    settings.ENRICHMENT_HEALTH_WEIGHTS = {"engagment": 30}
    settings.ENRICHMENT_FLAG_THRESHOLDS = {"csat_high": -1}
    ids = {error.id for error in run_checks()}
    assert {"enrichment.E002", "enrichment.E003"} <= ids
