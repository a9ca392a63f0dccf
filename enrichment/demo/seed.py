"""``demo_seed``: realistic, deterministic demo data (three fixed accounts plus N generated customers).

Everything is relative to "now". Generated customers are ``cust_000001`` ... and
each one is drawn from its own generators seeded with ``(seed, external_id)``,
so a customer's data does not depend on how many others are generated, and a
second run only adds customers that are missing. The rows are built in memory
(:mod:`~enrichment.demo.accounts`, :mod:`~enrichment.demo.generated`) and saved
here in bulk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from billing.models import Invoice, Plan, Subscription
from customers.models import Contact, Customer, EngagementDaily, EngagementEvent
from customers.partitions import events_partitions_ensure
from enrichment.demo.accounts import FIXED_ACCOUNTS
from enrichment.demo.builders import Blueprint, Clock, numbers_random
from enrichment.demo.experiment import demo_experiment_ensure
from enrichment.demo.generated import GENERATED_PREFIX, generated_build, generated_external_id
from support.models import Incident, IncidentImpact, IncidentStatus, Ticket

Phase = Callable[[str], AbstractContextManager]

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"

# code -> (name, tier, list price per seat and month)
PLAN_CATALOG: Mapping[str, tuple[str, int, Decimal]] = {
    "starter": ("Starter", 1, Decimal("15.00")),
    "professional": ("Professional", 2, Decimal("30.00")),
    "premium": ("Premium", 3, Decimal("50.00")),
    "enterprise": ("Enterprise", 4, Decimal("90.00")),
}


@dataclass(frozen=True)
class DemoSeedResult:
    """What one ``demo_seed`` run created (zeros when everything already existed)."""

    customers_created: int
    customers_existing: int
    fixed_accounts_created: tuple[str, ...]
    contacts: int
    subscriptions: int
    invoices: int
    tickets: int
    events: int
    rollup_rows: int
    plans_created: int
    incidents_created: int
    admin_created: bool


@transaction.atomic
def demo_seed(*, customers: int = 200, seed: int = 42, create_admin: bool = True, phase: Phase | None = None) -> DemoSeedResult:
    """Create the demo data set: plans, the three fixed accounts, ``customers``
    generated customers, incidents and (``create_admin``) the ``admin``/``admin`` superuser.

    Idempotent: fixed accounts, incidents and the admin are created only when
    missing, generated customers only for the ``cust_NNNNNN`` ids not present yet;
    nothing existing is modified (an existing user's password is never reset).
    Deterministic for a given ``seed`` apart from times, which are relative to now.
    Events are bulk-inserted; the database's triggers count them in the daily rollup.
    ``phase(name)`` is entered around each step (the command's progress); what
    it yields is told the step's outcome with ``done(summary)``.
    """
    if customers < 0:
        raise ValueError("customers must be >= 0")
    step = phase or _no_phase
    now = timezone.now()
    clock = Clock(now=now, today=now.date())
    with step("accounts built") as done:
        plans, plans_created = _plans_ensure()
        blueprints = _fixed_accounts_build(clock, plans, seed)
        fixed_created = tuple(bp.customer.external_id for bp in blueprints)
        generated, existing = _generated_build_missing(clock, plans, seed, customers)
        blueprints.extend(generated)
        done.done(f"{len(blueprints)} new customers ({existing} already present)")
    with step("rows saved") as done:
        counts = _blueprints_save(blueprints)
        done.done(", ".join(f"{n} {name}" for name, n in counts.items()))
    with step("engagement events saved") as done:
        counts["events"] = _events_save(blueprints)
        done.done(f"{counts['events']} events")
    with step("daily rollup (kept by the database's triggers)") as done:
        counts["rollup_rows"] = EngagementDaily.objects.filter(customer_id__in=[bp.customer.pk for bp in blueprints]).count()
        done.done(f"{counts['rollup_rows']} daily rows")
    with step("incidents") as done:
        incidents_created = _incidents_ensure(clock)
        done.done(f"{incidents_created} created")
    with step("example experiment (budget_800 vs default)") as done:
        reports = demo_experiment_ensure(now=now, seed=seed)
        done.done(f"{reports} outcome reports" if reports else "already present")
    admin_created = _admin_ensure() if create_admin else False
    return DemoSeedResult(
        customers_created=len(blueprints),
        customers_existing=existing,
        fixed_accounts_created=fixed_created,
        contacts=counts["contacts"],
        subscriptions=counts["subscriptions"],
        invoices=counts["invoices"],
        tickets=counts["tickets"],
        events=counts["events"],
        rollup_rows=counts["rollup_rows"],
        plans_created=plans_created,
        incidents_created=incidents_created,
        admin_created=admin_created,
    )


class _Quiet:
    def done(self, summary: str) -> None:
        pass


@contextmanager
def _no_phase(_name: str) -> Iterator[_Quiet]:
    yield _Quiet()


@dataclass(frozen=True, slots=True)
class DemoSeedPlan:
    """What :func:`demo_seed` would add, read without writing (``seed_demo --dry-run``)."""

    fixed_accounts: tuple[str, ...]
    generated: int
    generated_existing: int
    admin: bool


def demo_seed_plan(*, customers: int, create_admin: bool = True) -> DemoSeedPlan:
    present = set(Customer.objects.filter(external_id__startswith=GENERATED_PREFIX).values_list("external_id", flat=True))
    missing = sum(1 for i in range(1, customers + 1) if generated_external_id(i) not in present)
    fixed_present = set(Customer.objects.filter(external_id__in=list(FIXED_ACCOUNTS)).values_list("external_id", flat=True))
    admin_missing = not get_user_model()._default_manager.filter(username=ADMIN_USERNAME).exists()
    return DemoSeedPlan(
        fixed_accounts=tuple(external_id for external_id in FIXED_ACCOUNTS if external_id not in fixed_present),
        generated=missing,
        generated_existing=customers - missing,
        admin=create_admin and admin_missing,
    )


def plans_ensure() -> dict[str, Plan]:
    """The catalogue's plans by code, created when missing."""
    return _plans_ensure()[0]


def blueprints_persist(blueprints: Sequence[Blueprint]) -> dict[str, int]:
    """Save blueprints built elsewhere (their customers too, and their events); the row counts."""
    counts = _blueprints_save(blueprints)
    counts["events"] = _events_save(blueprints)
    return counts


def _plans_ensure() -> tuple[dict[str, Plan], int]:
    """The catalogue's plans by code (existing ones are kept as they are) and how many were created."""
    plans, created = {}, 0
    for code, (name, tier, price) in PLAN_CATALOG.items():
        plans[code], was_created = Plan.objects.get_or_create(
            code=code, defaults={"name": name, "tier": tier, "monthly_price_per_seat": price}
        )
        created += was_created
    return plans, created


def _incidents_ensure(clock: Clock) -> int:
    now = clock.now
    wanted = [
        {
            "title": "Elevated API error rates",
            "impact": IncidentImpact.MAJOR,
            "status": IncidentStatus.RESOLVED,
            "components": ["api", "integrations"],
            "started_at": now - dt.timedelta(days=21, hours=3),
            "resolved_at": now - dt.timedelta(days=21),
        },
        {
            "title": "Delayed email notifications in the EU region",
            "impact": IncidentImpact.MINOR,
            "status": IncidentStatus.RESOLVED,
            "components": ["automations"],
            "affected_regions": ["eu"],
            "started_at": now - dt.timedelta(days=6, hours=2),
            "resolved_at": now - dt.timedelta(days=6, minutes=30),
        },
        {
            "title": "Reports loading slowly for Enterprise workspaces",
            "impact": IncidentImpact.MINOR,
            "status": IncidentStatus.IDENTIFIED,
            "components": ["reports"],
            "affected_plans": ["enterprise"],
            "started_at": now - dt.timedelta(minutes=40),
            "resolved_at": None,
        },
    ]
    titles = set(Incident.objects.filter(title__in=[w["title"] for w in wanted]).values_list("title", flat=True))
    created = 0
    for values in wanted:
        if values["title"] not in titles:
            Incident.objects.create(**values)
            created += 1
    return created


def _admin_ensure() -> bool:
    user_model = get_user_model()
    if user_model._default_manager.filter(username=ADMIN_USERNAME).exists():
        return False
    user_model._default_manager.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)
    return True


def _fixed_accounts_build(clock: Clock, plans: Mapping[str, Plan], seed: int) -> list[Blueprint]:
    """Blueprints of the fixed accounts not present yet (their customer rows are created here)."""
    blueprints = []
    for external_id, build in FIXED_ACCOUNTS.items():
        blueprint = build(clock, plans, numbers_random(seed, external_id))
        customer, created = Customer.objects.get_or_create(
            external_id=external_id,
            defaults={
                f.attname: getattr(blueprint.customer, f.attname)
                for f in Customer._meta.concrete_fields
                if not f.primary_key and f.name not in ("external_id", "created_at", "updated_at")
            },
        )
        if created:
            blueprint.customer.pk = customer.pk
            blueprint.customer._state.adding = False
            blueprint.customer._state.db = customer._state.db
            blueprints.append(blueprint)
    return blueprints


def _generated_build_missing(clock: Clock, plans: Mapping[str, Plan], seed: int, count: int) -> tuple[list[Blueprint], int]:
    """Blueprints of the wanted generated customers not present yet, and how many were present."""
    present = set(Customer.objects.filter(external_id__startswith=GENERATED_PREFIX).values_list("external_id", flat=True))
    missing = [i for i in range(1, count + 1) if generated_external_id(i) not in present]
    used_domains = set(Customer.objects.values_list("domain", flat=True))
    blueprints = [generated_build(clock, plans, seed=seed, index=i, used_domains=used_domains) for i in missing]
    return blueprints, count - len(missing)


def _blueprints_save(blueprints: Sequence[Blueprint]) -> dict[str, int]:
    """Bulk-insert every blueprint's rows but events, parents first (primary keys come back from the insert)."""
    Customer.objects.bulk_create([bp.customer for bp in blueprints if bp.customer.pk is None], batch_size=500)
    contacts = [c for bp in blueprints for c in bp.contacts]
    subscriptions = [s for bp in blueprints for s in bp.subscriptions]
    invoices = [i for bp in blueprints for i in bp.invoices]
    tickets = [t for bp in blueprints for t in bp.tickets]
    Contact.objects.bulk_create(contacts, batch_size=1000)
    Subscription.objects.bulk_create(subscriptions, batch_size=1000)
    Invoice.objects.bulk_create(invoices, batch_size=1000)
    Ticket.objects.bulk_create(tickets, batch_size=1000)
    return {"contacts": len(contacts), "subscriptions": len(subscriptions), "invoices": len(invoices), "tickets": len(tickets)}


def _events_save(blueprints: Sequence[Blueprint]) -> int:
    """Insert the blueprints' events in chunks of 20,000 (contacts must be saved already),
    after making the monthly partitions they go to (PostgreSQL)."""
    oldest = min((occurred_at for bp in blueprints for _kind, _feature, occurred_at, _idx in bp.events), default=None)
    if oldest is not None:
        events_partitions_ensure(since=oldest)
    events = 0
    chunk: list[EngagementEvent] = []
    for bp in blueprints:
        customer_id = bp.customer.pk
        contact_ids = [c.pk for c in bp.contacts]
        chunk.extend(
            EngagementEvent(
                customer_id=customer_id,
                contact_id=contact_ids[idx] if contact_ids else None,
                kind=kind,
                feature=feature,
                occurred_at=occurred_at,
            )
            for kind, feature, occurred_at, idx in bp.events
        )
        if len(chunk) >= 20_000:
            EngagementEvent.objects.bulk_create(chunk, batch_size=5000)
            events += len(chunk)
            chunk = []
    EngagementEvent.objects.bulk_create(chunk, batch_size=5000)
    return events + len(chunk)
