"""Serving the learned churn risk: in process, from memory, no query per context.

The active model (a row of :class:`~enrichment.churn.models.ChurnModel` that
beat the rules on its holdout) is held in this process as plain numbers. It is read
once when the process first needs it, then reloaded off the request path: by
a background thread every ``CHURN_MODEL_REFRESH_SECONDS`` (0: never on its
own), right after training in this process, or by :func:`churn_model_reload`. Until a model is loaded,
or when the active one did not beat the rules, the rules serve and the context
says so (``churn_model.source`` "rules"). The active model's observed action
effects (:mod:`enrichment.churn.outcomes`) order the suggested actions
(:func:`actions_ranked`) whichever serves the churn risk.

The loaded version is the account health provider's data version, so cached
contexts computed with another model (or with the rules) recompute their
account health when the served model changes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError, connections

from enrichment.churn.facts import AccountFacts, facts_from_sections
from enrichment.churn.features import explain, vectorize
from enrichment.churn.selectors import churn_model_active_row
from enrichment.context.sections import AccountHealth, ChurnFactor, ChurnModelInfo, NextAction
from enrichment.rules.scoring import churn_risk_level

logger = structlog.get_logger(__name__)

TOP_FACTORS = 3
RULES = ChurnModelInfo(source="rules")
CANCELED = ChurnModelInfo(source="canceled")


@dataclass(frozen=True)
class ServingModel:
    version: int
    features: Sequence[str]
    coef: Sequence[float]
    intercept: float
    mean: Sequence[float]
    scale: Sequence[float]
    plans: Sequence[str]
    serves: bool  # it beat the rules on its holdout: it serves churn_risk
    effects: Mapping[str, float]  # action code -> observed effect (enough evidence only)
    base_rate: float | None = None  # share of training rows that canceled within the horizon

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ServingModel:
        p = row["params"]
        effects = {e["code"]: e["effect"] for e in row.get("action_effects") or () if e.get("effect") is not None}
        window = row.get("training_window") or {}
        rows, churned = window.get("train_rows"), window.get("train_churned")
        return cls(
            version=row["version"],
            features=tuple(row["features"]),
            coef=tuple(p["coef"]),
            intercept=float(p["intercept"]),
            mean=tuple(p["mean"]),
            scale=tuple(p["scale"]),
            plans=tuple(p["plans"]),
            serves=bool(row["beats_rules"]),
            effects=effects,
            base_rate=churned / rows if rows and churned is not None else None,
        )

    def level(self, risk: float) -> str:
        """The risk level against this account base's own cancellation rate: a
        90-day probability of 25% is high where 10% of accounts cancel. High
        from twice the base rate, medium from 1.25 times; never lower than the
        absolute levels of the rules (0.3 medium, 0.6 high)."""
        absolute = churn_risk_level(risk)
        if not self.base_rate:
            return absolute
        relative = "high" if risk >= 2 * self.base_rate else "medium" if risk >= 1.25 * self.base_rate else "low"
        order = ("low", "medium", "high")
        return max(absolute, relative, key=order.index)

    def contributions(self, facts: AccountFacts) -> list[float]:
        """Each feature's signed share of the log-odds, against the training data's average account."""
        x = vectorize(facts, self.plans)
        return [w * (v - m) / s for w, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)]

    def score(self, facts: AccountFacts) -> tuple[float, tuple[ChurnFactor, ...]]:
        """The probability of canceling within the horizon and the top factors."""
        parts = self.contributions(facts)
        logit = self.intercept + sum(parts)
        probability = 1 / (1 + math.exp(-max(-40.0, min(40.0, logit))))
        ranked = sorted(zip(self.features, parts, strict=True), key=lambda p: -abs(p[1]))[:TOP_FACTORS]
        factors = tuple(ChurnFactor(name, explain(name, facts, c), round(c, 3)) for name, c in ranked if abs(c) >= 0.01)
        return probability, factors


class _Holder:
    def __init__(self) -> None:
        self.model: ServingModel | None = None
        self.checked_at = -math.inf
        self.lock = threading.Lock()
        self.loading = False


_HOLDER = _Holder()


def churn_model_reload() -> ServingModel | None:
    """Read the serving model now (one query) and hold it in this process."""
    row = churn_model_active_row()
    model = ServingModel.from_row(row) if row else None
    with _HOLDER.lock:
        _HOLDER.model, _HOLDER.checked_at = model, time.monotonic()
    return model


def _reload_in_background() -> None:
    try:
        churn_model_reload()
    except Exception as exc:  # noqa: BLE001 - the model in memory keeps serving
        logger.warning("churn_model_reload_failed", error=type(exc).__name__)
        _HOLDER.checked_at = time.monotonic()
    finally:
        _HOLDER.loading = False
        connections.close_all()  # this thread's connection: back to the pool, not leaked with the thread


def serving_model() -> ServingModel | None:
    """The model held in memory. With ``CHURN_MODEL_REFRESH_SECONDS`` set, the
    process's first call reads it (one query, once per process: every context
    after that says the same), later ones start a background reload when due."""
    interval = settings.CHURN_MODEL_REFRESH_SECONDS
    holder = _HOLDER
    if interval <= 0 or time.monotonic() - holder.checked_at < interval:
        return holder.model
    if holder.checked_at == -math.inf:
        try:
            return churn_model_reload()
        except DatabaseError as exc:
            logger.warning("churn_model_load_failed", error=type(exc).__name__)
            holder.checked_at = time.monotonic()
            return None
    with holder.lock:
        if holder.loading:
            return holder.model
        holder.loading = True
    threading.Thread(target=_reload_in_background, name="churn-model-reload", daemon=True).start()
    return holder.model


def serving_version() -> str:
    """ "rules" or "model:<version>": the account health section's data version."""
    model = serving_model()
    return f"model:{model.version}" if model is not None and model.serves else "rules"


def actions_ranked(actions: Sequence[NextAction]) -> tuple[NextAction, ...]:
    """The rules' actions, each priority's actions with an observed positive
    effect first (largest first); the others, whose evidence is thin or
    missing, keep the rules' order after them."""
    model = serving_model()
    effects = model.effects if model is not None else {}
    if not effects or len(actions) < 2:
        return tuple(actions)
    rank = {"high": 0}

    def key(item: tuple[int, NextAction]) -> tuple[int, float, int]:
        index, action = item
        effect = effects.get(action.code)
        return rank.get(action.priority, 1), -effect if effect is not None and effect > 0 else 0.0, index

    return tuple(action for _i, action in sorted(enumerate(actions), key=key))


def churn_apply(health: AccountHealth, sections: Mapping[str, Any]) -> AccountHealth:
    """The rules' assessment with the churn risk from the served model, when
    one serves and the account is live; says where the risk came from."""
    if health.churn_risk is None:
        return replace(health, churn_model=CANCELED)
    model = serving_model()
    facts = facts_from_sections(sections) if model is not None and model.serves else None
    if model is None or facts is None:  # (the assessment's own churn_model is already the rules')
        return health if health.churn_model == RULES else replace(health, churn_model=RULES)
    probability, factors = model.score(facts)
    risk = round(probability, 3)
    return replace(
        health,
        churn_risk=risk,
        churn_risk_level=model.level(risk),
        churn_model=ChurnModelInfo(source="model", version=model.version, factors=factors),
    )


def churn_model_forget(**_kwargs: Any) -> None:
    """Drop the held model (tests; a settings change)."""
    with _HOLDER.lock:
        _HOLDER.model, _HOLDER.checked_at, _HOLDER.loading = None, -math.inf, False


setting_changed.connect(churn_model_forget)
