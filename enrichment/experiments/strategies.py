"""Context strategies: named ways to build the context an agent receives,
declared in ``CONTEXT_STRATEGIES`` (name -> options), the way Django declares
caches. The current rendering is ``default``.

Options (all optional):

- ``description``: for people;
- ``max_chars``: the prompt budget (a smaller budget in the request wins);
- ``omit``: prompt parts left out (:data:`OMITTABLE`);
- ``summary_only``: only the parts never dropped (header, critical issues,
  the ticket being answered), as the tightest budget would leave them.

Every strategy keeps the block's guarantees (prompt-safe text, scopes, the
customer-facing allowlist): a strategy only chooses among parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from enrichment.context.prompt import FULL_DROP_ORDER

SETTING = "CONTEXT_STRATEGIES"
DEFAULT = "default"
# Used when ``CONTEXT_STRATEGIES`` is not set.
BUILTIN = {
    "default": {"description": "The whole block, as designed."},
    "budget_800": {"description": "The block within 800 characters: least important parts dropped first.", "max_chars": 800},
    "no_actions": {"description": "The whole block without suggested actions.", "omit": ["suggested_actions"]},
    "summary_only": {"description": "Only what is never dropped: header, critical issues, the ticket.", "summary_only": True},
}
OMITTABLE = frozenset(FULL_DROP_ORDER)
_OPTIONS = {"description", "max_chars", "omit", "summary_only"}


@dataclass(frozen=True, slots=True)
class Strategy:
    name: str
    description: str = ""
    max_chars: int | None = None
    omit: frozenset[str] = frozenset()
    summary_only: bool = False

    def budget(self, requested: int | None) -> int | None:
        """The request's budget, or this strategy's if smaller."""
        if requested is None:
            return self.max_chars
        return min(requested, self.max_chars) if self.max_chars else requested

    def omitted(self) -> frozenset[str]:
        return OMITTABLE if self.summary_only else self.omit


def _strategy(name: str, options: Any) -> Strategy:
    where = f"{SETTING}[{name!r}]"
    if not isinstance(options, dict):
        raise ImproperlyConfigured(f"{where} must be a dict of options")
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ImproperlyConfigured(f"{where} has unknown options {unknown}; known: {sorted(_OPTIONS)}")
    budget = options.get("max_chars")
    if budget is not None and (not isinstance(budget, int) or budget < 200):
        raise ImproperlyConfigured(f"{where}['max_chars'] must be a whole number of at least 200")
    omit = frozenset(options.get("omit", ()))
    if not omit <= OMITTABLE:
        raise ImproperlyConfigured(f"{where}['omit'] names unknown parts {sorted(omit - OMITTABLE)}; parts: {sorted(OMITTABLE)}")
    return Strategy(name, str(options.get("description", "")), budget, omit, bool(options.get("summary_only", False)))


_LOADED: list[Any] = [None, None]  # [the setting's object, its strategies]: rebuilt when the setting changes


def strategies() -> dict[str, Strategy]:
    """Every strategy of ``CONTEXT_STRATEGIES``; ImproperlyConfigured naming the setting when one is wrong."""
    config = getattr(settings, SETTING, None) or BUILTIN
    if _LOADED[0] is not config:
        if not isinstance(config, dict):
            raise ImproperlyConfigured(f"{SETTING} must be a dict: name -> options")
        found = {name: _strategy(name, options) for name, options in config.items()}
        if DEFAULT not in found:
            raise ImproperlyConfigured(f"{SETTING} must define {DEFAULT!r} (the current rendering)")
        _LOADED[:] = [config, found]
    return _LOADED[1]


def strategy_get(name: str) -> Strategy:
    return strategies().get(name) or strategies()[DEFAULT]
