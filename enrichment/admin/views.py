"""The support staff's admin over customer contexts.

:class:`CustomerContextAdminMixin` gives ``CustomerAdmin`` (customers/admin.py)
its health columns, search, actions, the context panel at the top of the
change form, the refresh/invalidate buttons and the health dashboard.

Everything about a customer's context comes from one call,
``get_context_service().enrich_context(external_id)``: the admin renders the
same :class:`~enrichment.context.enriched.EnrichedContext` an agent receives and runs no
queries of its own for it. The list and the dashboard read the denormalised
:class:`~enrichment.history.models.CustomerHealth` and :class:`~enrichment.history.models.HealthDaily`
rows that the service writes whenever it computes a context.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from customers.models import Contact, Customer
from enrichment.admin.charts import sparkline, trend_chart, weekly_points
from enrichment.admin.filters import ChurnRiskFilter, HealthLabelFilter, PlanFilter, RedFlagsFilter, RenewalFilter
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import ContextEnrichmentError
from enrichment.engine.service import get_context_service
from enrichment.engine.tasks import refresh_contexts
from enrichment.history.models import CustomerHealth, HealthDaily
from enrichment.history.snapshots import snapshot_timeline

logger = structlog.get_logger(__name__)

LABEL_CLASSES = {"Good": "good", "Fair": "fair", "At Risk": "risk", "Critical": "critical"}
LABEL_ORDER = ("Good", "Fair", "At Risk", "Critical")
LABEL_PARAMS = {"Good": "good", "Fair": "fair", "At Risk": "at_risk", "Critical": "critical"}
VENDOR_SETTINGS = ("CLEARBIT_API_KEY", "CRUNCHBASE_API_KEY", "NEWSAPI_KEY")
REFRESH_BATCH = 100  # external ids per queued task
STALE_AFTER = dt.timedelta(days=1)
TIER_NAMES = {"l1": "L1 (in-process)", "l2": "L2 (shared cache)", "computed": "computed"}
FACTOR_NAMES = {"csat": "CSAT"}
SECTION_TITLES = {
    "customer_intelligence": "Customer",
    "engagement_metrics": "Engagement",
    "support_history": "Support history",
    "subscription_details": "Subscription",
    "account_health": "Account health",
    "company_enrichment": "Company enrichment",
    "product_status": "Product status",
    "current_activity": "Current activity",
    "agent_performance": "Agent performance",
}


def can_refresh(user: Any) -> bool:
    """Refreshing or invalidating a context (or running the actions) changes
    data: superusers and users allowed to change customers only."""
    return bool(user.is_active and (user.is_superuser or user.has_perm("customers.change_customer")))


def freshness(when: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """'just now', '4 min ago', '3 h ago', '2 d ago'."""
    if when is None:
        return "never"
    seconds = max(0, int(((now or timezone.now()) - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def _health(obj: Customer) -> CustomerHealth | None:
    try:
        return obj.health  # select_related by the change list: no query
    except ObjectDoesNotExist:
        return None


def _renewal_class(days: int) -> str:
    if days <= 7:
        return "cc-renew-now"
    if days <= 30:
        return "cc-renew-soon"
    return ""


# -- the customer page -----------------------------------------------------------------
def health_trend(customer_pk: int, *, today: dt.date, weeks: int = 12) -> list[tuple[dt.date, float | None]]:
    """Weekly average health over ``weeks`` weeks from the daily history: one query."""
    rows = HealthDaily.objects.filter(
        customer_id=customer_pk, day__gt=today - dt.timedelta(days=weeks * 7), day__lte=today
    ).values_list("day", "health_score")
    return weekly_points(rows, today=today, weeks=weeks)


def _evidence(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key.replace("_", " "), _plain(value)) for key, value in evidence.items()]


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _tier(context: EnrichedContext) -> str:
    """Which cache tier answered: L1 (this process), L2 (the shared cache), computed, or a mix."""
    tiers = sorted({src.tier for src in context.sources.values()}) or ["computed"]
    return " + ".join(TIER_NAMES.get(tier, tier) for tier in tiers)


def context_panel(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """Everything the panel template needs, from one ``enrich_context`` call
    (plus one query for the 12-week trend and one for the changes timeline)."""
    today = timezone.localdate()
    trend = trend_chart(health_trend(customer.pk, today=today))
    try:
        context = get_context_service().enrich_context(customer.external_id)
    except ContextEnrichmentError as exc:
        return {"error": str(exc), "trend": trend, "can_refresh": can_refresh(request.user)}
    except Exception as exc:  # the change form must stay usable whatever the service does
        logger.exception("admin_context_failed", customer_id=customer.external_id)
        return {"error": f"the context could not be computed ({type(exc).__name__})", "trend": trend,
                "can_refresh": can_refresh(request.user)}
    health = context.account_health
    degraded = {d.section: d.reason for d in context.degraded}
    flags = {"red": [], "yellow": [], "green": []}
    for flag in health.flags:
        flags.setdefault(flag.level, []).append({"flag": flag, "evidence": _evidence(flag.evidence)})
    breakdown = [
        {
            "factor": factor,
            "label": FACTOR_NAMES.get(factor.factor, factor.factor.replace("_", " ").capitalize()),
            "pct": round(100 * factor.points / factor.weight) if factor.weight else 0,
        }
        for factor in health.breakdown
    ]
    sub = context.subscription_details
    engagement = context.engagement_metrics
    sources = [
        {"key": key, "title": SECTION_TITLES.get(key, key), "src": src, "degraded": degraded.get(key)}
        for key, src in sorted(context.sources.items())
    ]
    return {
        "ctx": context,
        "health": health,
        "label_class": LABEL_CLASSES.get(health.health_label, "none"),
        "flags": flags,
        "breakdown": breakdown,
        "breakdown_total": round(sum(f.points for f in health.breakdown), 1),
        "degraded": degraded,
        "degraded_titles": [(SECTION_TITLES.get(k, k), v) for k, v in degraded.items()],
        "logins": sparkline(list(engagement.daily_logins_30d), end=(context.enriched_at or timezone.now()).date()),
        "trend": trend,
        "sources": sources,
        "tier": _tier(context),
        "computed_ago": freshness(context.enriched_at),
        "prompt": context.to_prompt_context(),
        "seat_pct": round(sub.seat_utilization * 100),
        "can_refresh": can_refresh(request.user),
        "tickets": [{"ticket": t, "url": _ticket_url(t.id)} for t in context.support_history.recent_tickets],
        "timeline": snapshot_timeline(customer_pk=customer.pk),
    }


def _ticket_url(ticket_id: int) -> str | None:
    try:
        return reverse("admin:support_ticket_change", args=[ticket_id])
    except NoReverseMatch:  # tickets not registered in this admin site
        return None


# -- the dashboard -----------------------------------------------------------------------
def dashboard_data(*, today: dt.date | None = None, limit: int = 20) -> dict[str, Any]:
    """Set-based: label counts, red-flag renewals, the week's biggest drops."""
    today = today or timezone.localdate()
    now = timezone.now()
    by_label = dict(
        CustomerHealth.objects.order_by().values_list("health_label").annotate(n=Count("pk")).values_list("health_label", "n")
    )
    total = Customer.objects.count()
    stats = CustomerHealth.objects.aggregate(
        oldest=Min("computed_at"), newest=Max("computed_at"), stale=Count("pk", filter=Q(computed_at__lt=now - STALE_AFTER))
    )
    computed = sum(by_label.values())
    labels = [
        {"label": label, "count": by_label.get(label, 0), "css": LABEL_CLASSES[label], "param": LABEL_PARAMS[label]}
        for label in LABEL_ORDER
    ]
    labels += [
        {"label": label, "count": n, "css": "none", "param": None} for label, n in by_label.items() if label not in LABEL_CLASSES
    ]
    labels.append({"label": "Not computed", "count": max(0, total - computed), "css": "none", "param": "none"})

    renewals = list(
        CustomerHealth.objects.filter(red_flags__gt=0, renewal_date__gte=today)
        .order_by("renewal_date", "health_score", "customer_id")
        .values(
            "customer_id", "customer__external_id", "customer__company_name", "health_score", "health_label",
            "churn_risk_level", "red_flags", "yellow_flags", "plan", "mrr", "renewal_date",
        )[:limit]
    )
    for row in renewals:
        row["days"] = (row["renewal_date"] - today).days
        row["css"] = LABEL_CLASSES.get(row["health_label"], "none")

    latest = HealthDaily.objects.aggregate(day=Max("day"))["day"]
    drops: list[dict[str, Any]] = []
    if latest is not None:
        before = HealthDaily.objects.filter(customer_id=OuterRef("customer_id"), day=latest - dt.timedelta(days=7)).values(
            "health_score"
        )[:1]
        drops = list(
            HealthDaily.objects.filter(day=latest)
            .annotate(before=Subquery(before))
            .annotate(drop=F("before") - F("health_score"))
            .filter(drop__gt=0)
            .order_by("-drop", "health_score", "customer_id")
            .values("customer_id", "customer__external_id", "customer__company_name", "health_score", "before", "drop",
                    "red_flags")[:limit]
        )
    return {
        "labels": labels,
        "total": total,
        "computed": computed,
        "stats": stats,
        "oldest_ago": freshness(stats["oldest"], now=now),
        "newest_ago": freshness(stats["newest"], now=now),
        "renewals": renewals,
        "drops": drops,
        "drops_day": latest,
        "drops_since": latest - dt.timedelta(days=7) if latest else None,
        "limit": limit,
    }


# -- the ModelAdmin mixin ------------------------------------------------------------------
class CustomerContextAdminMixin:
    """Health columns, filters, search, actions, context panel and dashboard
    for ``CustomerAdmin``. The host class sets ``list_display`` etc."""

    health_list_filter = (HealthLabelFilter, ChurnRiskFilter, PlanFilter, RedFlagsFilter, RenewalFilter)
    change_form_template = "admin/customers/customer/change_form.html"
    change_list_template = "admin/customers/customer/change_list.html"
    search_help_text = "Company name, domain, external id, or a contact's email."

    class Media:
        css = {"all": ("enrichment/admin.css",)}

    # -- columns ---------------------------------------------------------------------
    @admin.display(description="Customer", ordering="company_name")
    def customer(self, obj: Customer) -> str:
        return format_html('{}<span class="cc-extid">{}</span>', obj.company_name, obj.external_id)

    @admin.display(description="Health", ordering="health__health_score")
    def health_badge(self, obj: Customer) -> str:
        health = _health(obj)
        if health is None:
            return format_html('<span class="cc-badge cc-none" title="{}">{}</span>', "No context computed yet", "not computed")
        return format_html(
            '<span class="cc-badge cc-{}" title="Health score {} of 100">{} · {}</span>',
            LABEL_CLASSES.get(health.health_label, "none"),
            health.health_score,
            health.health_score,
            health.health_label,
        )

    @admin.display(description="Churn risk", ordering="health__churn_risk")
    def churn_level(self, obj: Customer) -> str:
        health = _health(obj)
        if health is None:
            return "–"
        return format_html(
            '<span class="cc-churn cc-churn-{}" title="{}%">{}</span>',
            health.churn_risk_level,
            round(health.churn_risk * 100),
            health.churn_risk_level,
        )

    @admin.display(description="Plan", ordering="health__plan")
    def plan(self, obj: Customer) -> str:
        health = _health(obj)
        return health.plan if health is not None and health.plan else "–"

    @admin.display(description="MRR", ordering="health__mrr")
    def mrr(self, obj: Customer) -> str:
        health = _health(obj)
        if health is None:
            return "–"
        return format_html('<span class="cc-num">${}</span>', number_format(health.mrr, 2, force_grouping=True))

    @admin.display(description="Renewal", ordering="health__renewal_date")
    def renewal(self, obj: Customer) -> str:
        health = _health(obj)
        if health is None or health.renewal_date is None:
            return "–"
        days = (health.renewal_date - timezone.localdate()).days
        if days < 0:
            text, css = f"{-days} d ago", "cc-renew-past"
        else:
            text, css = ("today" if days == 0 else f"in {days} d"), _renewal_class(days)
        return format_html('<span class="cc-num {}" title="{}">{}</span>', css, health.renewal_date.isoformat(), text)

    @admin.display(description="Flags", ordering="health__red_flags")
    def flag_counts(self, obj: Customer) -> str:
        health = _health(obj)
        if health is None:
            return "–"
        return format_html(
            '<span class="cc-flags" title="{} red, {} yellow, {} green">'
            '<span class="cc-dot cc-dot-red{}">{}</span>'
            '<span class="cc-dot cc-dot-yellow{}">{}</span>'
            '<span class="cc-dot cc-dot-green{}">{}</span></span>',
            health.red_flags, health.yellow_flags, health.green_flags,
            "" if health.red_flags else " cc-zero", health.red_flags,
            "" if health.yellow_flags else " cc-zero", health.yellow_flags,
            "" if health.green_flags else " cc-zero", health.green_flags,
        )

    @admin.display(description="Computed", ordering="health__computed_at")
    def computed(self, obj: Customer) -> str:
        health = _health(obj)
        if health is None:
            return format_html('<span class="cc-stale">{}</span>', "never")
        stale = timezone.now() - health.computed_at > STALE_AFTER
        return format_html(
            '<span class="{}" title="{}">{}</span>',
            "cc-stale" if stale else "cc-fresh",
            health.computed_at.isoformat(timespec="seconds"),
            freshness(health.computed_at),
        )

    # -- search ------------------------------------------------------------------------
    def get_search_results(self, request, queryset, search_term):
        """Name, domain and external id contain the term, or a contact's email
        does. The email match is an ``id IN (subquery)``, not a join: no
        duplicate rows, no DISTINCT over the whole table; a full address uses
        the unique email index."""
        term = search_term.strip()
        if not term:
            return queryset, False
        local, at, domain = term.partition("@")
        if at and local and "." in domain and " " not in term and "@" not in domain:
            contacts = Contact.objects.filter(email=term.lower())  # a full address: the unique index
        else:
            contacts = Contact.objects.filter(email__icontains=term)
        query = (
            Q(company_name__icontains=term)
            | Q(domain__icontains=term)
            | Q(external_id__icontains=term)
            | Q(pk__in=contacts.values("customer_id"))
        )
        return queryset.filter(query), False

    # -- actions -------------------------------------------------------------------------
    @admin.action(description="Refresh contexts of the selected customers", permissions=["refresh"])
    def refresh_selected_contexts(self, request, queryset):
        ids = list(queryset.order_by("pk").values_list("external_id", flat=True))
        batches = [ids[i : i + REFRESH_BATCH] for i in range(0, len(ids), REFRESH_BATCH)]
        results = [refresh_contexts.delay(batch) for batch in batches]
        if settings.CELERY_TASK_ALWAYS_EAGER:
            refreshed = sum(int(result.get()) for result in results)
            self.message_user(request, f"Refreshed {refreshed} of {len(ids)} contexts.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                f"Queued the refresh of {len(ids)} contexts in {len(batches)} task(s); "
                "the list's health columns update as the workers finish.",
                messages.SUCCESS,
            )

    @admin.action(description="Fetch external enrichment for the selected customers", permissions=["refresh"])
    def fetch_external_enrichment(self, request, queryset):
        configured = [name for name in VENDOR_SETTINGS if getattr(settings, name, None)]
        if not configured:
            self.message_user(
                request,
                "No external data vendor is configured (CLEARBIT_API_KEY, CRUNCHBASE_API_KEY and NEWSAPI_KEY are "
                "unset), so nothing was fetched. Set a key in the environment to enable that vendor.",
                messages.WARNING,
            )
            return
        try:
            from enrichment.vendors.tasks import fetch_external_enrichment
        except ImportError:  # the integrations are not installed in this build
            self.message_user(
                request,
                f"Configured: {', '.join(configured)}, but external enrichment tasks are not available in this "
                "build, so nothing was queued.",
                messages.WARNING,
            )
            return
        ids = list(queryset.order_by("pk").values_list("external_id", flat=True))
        for external_id in ids:
            fetch_external_enrichment.delay(external_id)
        self.message_user(
            request,
            f"Queued external enrichment for {len(ids)} customer(s) ({', '.join(configured)} configured). "
            "Only eligible accounts are looked up; results appear in the context once stored.",
            messages.SUCCESS,
        )

    def has_refresh_permission(self, request) -> bool:
        return can_refresh(request.user)

    # -- urls and views ---------------------------------------------------------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        urls = [
            path("dashboard/", wrap(self.dashboard_view), name="{}_{}_dashboard".format(*info)),
            path("<path:object_id>/context/refresh/", wrap(self.context_refresh_view), name="{}_{}_context_refresh".format(*info)),
            path(
                "<path:object_id>/context/invalidate/",
                wrap(self.context_invalidate_view),
                name="{}_{}_context_invalidate".format(*info),
            ),
        ]
        return urls + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            context["cc"] = context_panel(request, obj)
            context["cc_refresh_url"] = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_context_refresh", args=[obj.pk])
            context["cc_invalidate_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_context_invalidate", args=[obj.pk]
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _customer_for_write(self, request, object_id) -> Customer:
        if not can_refresh(request.user):
            raise PermissionDenied
        customer = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_or_change_permission(request, customer):
            raise PermissionDenied
        return customer

    def _back(self, request, customer: Customer) -> HttpResponse:
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[customer.pk]))

    def context_refresh_view(self, request, object_id):
        return require_POST(self._context_refresh)(request, object_id)

    def _context_refresh(self, request, object_id):
        customer = self._customer_for_write(request, object_id)
        try:
            context = get_context_service().enrich_context(customer.external_id, force_refresh=True)
        except ContextEnrichmentError as exc:
            self.message_user(request, f"Refresh failed: {exc}", messages.ERROR)
        else:
            health = context.account_health
            self.message_user(
                request,
                f"Context refreshed: health {health.health_score} ({health.health_label}), "
                f"computed in {context.enrichment_latency_ms:.0f} ms.",
                messages.SUCCESS,
            )
        return self._back(request, customer)

    def context_invalidate_view(self, request, object_id):
        return require_POST(self._context_invalidate)(request, object_id)

    def _context_invalidate(self, request, object_id):
        customer = self._customer_for_write(request, object_id)
        try:
            get_context_service().invalidate_cache(customer.external_id)
        except ContextEnrichmentError as exc:
            self.message_user(request, f"Invalidation failed: {exc}", messages.ERROR)
        else:
            self.message_user(
                request,
                "Cached context dropped from the shared cache; other processes drop their in-process copy within "
                f"{settings.CONTEXT_L1_TTL:g} s. This page computed it again.",
                messages.SUCCESS,
            )
        return self._back(request, customer)

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        data = dashboard_data()
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        for row in (*data["renewals"], *data["drops"]):
            row["url"] = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[row["customer_id"]])
        context = {
            **self.admin_site.each_context(request),
            "title": "Customer health dashboard",
            "subtitle": None,
            "opts": self.opts,
            "changelist_url": changelist,
            "media": self.media,
            "has_view_permission": True,
            **data,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "enrichment/admin/dashboard.html", context)


__all__ = [
    "CustomerContextAdminMixin",
    "can_refresh",
    "context_panel",
    "dashboard_data",
    "freshness",
    "health_trend",
]
