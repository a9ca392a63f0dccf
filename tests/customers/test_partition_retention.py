"""Retention (customers/partitions.py): monthly partitions wholly older than
EVENTS_RETENTION_MONTHS are detached and dropped; DROP fires no trigger, so the
daily rollup keeps their months, and every figure read for the last 90 days
is the same before and after."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from customers.models import EngagementDaily, EngagementEvent, EngagementEventKey, EventPartitionDrop
from customers.partition_sql import DEFAULT_PARTITION, month_start, partition_name
from customers.partitions import (
    RetentionApplied,
    events_partitions,
    events_partitions_ensure,
    events_raw_since,
    events_retention_apply,
    events_retention_cutoff,
)
from customers.rollup import engagement_rollup_drift
from customers.selectors import contact_activity, engagement_windows
from customers.services import EventInput, EventsBeforeRetention, engagement_events_ingest, engagement_rollup_rebuild
from customers.tasks import maintain_event_partitions
from customers.windows import trailing
from enrichment.api.serializers.inputs import EventSerializer
from tests.customers.partition_data import DAY, history, rollup_rows

pytestmark = pytest.mark.django_db
MONTHS = 3


def figures(h, now: dt.datetime) -> dict:
    """What a context reads from the events for the last 90 days: windows at now and earlier, last logins,
    requesters (the lapsed account's last login, 200 days ago, is another test's)."""
    pks = [h.busy.pk, h.lapsed.pk, h.fresh.pk]

    def recent(windows: dict) -> dict:
        return {pk: replace(w, last_login_at=None) if pk == h.lapsed.pk else w for pk, w in windows.items()}

    found = {f"windows@{k}": recent(engagement_windows(customer_pks=pks, now=now - k * DAY)) for k in (0, 1, 12, 25)}
    found["one"] = recent({pk: engagement_windows(customer_pks=[pk], now=now)[pk] for pk in pks})  # the compiled single-customer path
    found["requester"] = contact_activity(contact_pk=h.busy_contact.pk, window=trailing(now))
    return found


def test_retention_drops_old_partitions_and_the_rollup_and_recent_figures_stay_the_same():
    now = timezone.now()
    h = history(now)
    cutoff = events_retention_cutoff(now=now, months=MONTHS)
    ingested = [EventInput(f"k-{d}", "busy", "invite", now - d * 7 * DAY) for d in range(1, 40)]
    assert engagement_events_ingest(events=ingested).created == 39
    assert month_start(cutoff) == cutoff.date() and dt.timedelta(days=89) <= now - cutoff <= dt.timedelta(days=123)
    old = [p.name for p in events_partitions() if not p.is_default and p.end <= cutoff]
    old_events = EngagementEvent.objects.filter(occurred_at__lt=cutoff).count()
    kept_events = set(EngagementEvent.objects.filter(occurred_at__gte=cutoff).values_list("pk", flat=True))
    assert old and old_events > 300
    rollup_before, figures_before = rollup_rows(), figures(h, now)

    applied = events_retention_apply(now=now, months=MONTHS)

    assert (sorted(applied.dropped), applied.rows, applied.cutoff, applied.failed) == (sorted(old), old_events, cutoff, ())
    left = events_partitions()
    assert all(p.end > cutoff for p in left if not p.is_default) and left[-1].name == DEFAULT_PARTITION  # nothing inside the retention
    assert set(EngagementEvent.objects.values_list("pk", flat=True)) == kept_events
    assert rollup_rows() == rollup_before  # DETACH and DROP fire no trigger: the rollup keeps the dropped months
    assert EngagementDaily.objects.filter(day__lt=cutoff.date()).exists()
    assert figures(h, now) == figures_before
    assert events_raw_since() == cutoff
    old_keys = {e.event_id for e in ingested if e.occurred_at < cutoff}
    assert applied.keys == len(old_keys) > 0  # the ids of the months dropped go with them
    assert set(EngagementEventKey.objects.values_list("event_id", flat=True)) == {e.event_id for e in ingested} - old_keys
    logged = EventPartitionDrop.objects.filter(name__in=old)
    assert logged.count() == len(old) and sum(logged.values_list("rows", flat=True)) == old_events
    assert events_retention_apply(now=now, months=MONTHS) == RetentionApplied(cutoff)  # nothing left to drop


def test_with_the_retention_on_events_older_than_it_are_refused(settings):
    """Their month is dropped, and so are the ids that would recognise a retry: nothing is stored."""
    now = timezone.now()
    history(now)
    settings.EVENTS_RETENTION_MONTHS = MONTHS
    cutoff = events_retention_cutoff(now=now, months=MONTHS)
    late = [EventInput("fine", "busy", "login", cutoff + DAY), EventInput("too-old", "busy", "login", cutoff - DAY)]
    with pytest.raises(EventsBeforeRetention, match="too-old"):
        engagement_events_ingest(events=late)
    assert not EngagementEvent.objects.filter(event_id__in=["fine", "too-old"]).exists()
    body = {"event_id": "too-old", "customer_id": "busy", "kind": "login", "occurred_at": (cutoff - DAY).isoformat()}
    serializer = EventSerializer(data=body)
    assert not serializer.is_valid() and f"is before {cutoff.date().isoformat()}" in str(serializer.errors["occurred_at"])


def test_a_last_login_older_than_the_retention_is_still_known_to_the_day():
    now = timezone.now()
    h = history(now)
    before = engagement_windows(customer_pks=[h.lapsed.pk], now=now)[h.lapsed.pk].last_login_at
    assert before == h.lapsed_last_login
    events_retention_apply(now=now, months=MONTHS)
    for path in ([h.lapsed.pk], [h.lapsed.pk, h.busy.pk]):  # compiled single customer, and a batch
        after = engagement_windows(customer_pks=path, now=now)[h.lapsed.pk].last_login_at
        assert after == dt.datetime.combine(before.date(), dt.time.min, tzinfo=dt.UTC)  # the rollup's day: days since it unchanged
    # one person's own activity is read from the raw events only: beyond the retention, none recorded
    assert contact_activity(contact_pk=h.lapsed_contact.pk, window=trailing(now)).last_login_at is None


def test_the_rollup_checks_and_rebuilds_leave_the_dropped_months_alone():
    now = timezone.now()
    h = history(now)
    events_retention_apply(now=now, months=MONTHS)
    before = rollup_rows()
    assert engagement_rollup_drift(since=None).keys == 0  # no raw events to compare the old days with: not drift
    engagement_rollup_rebuild(customer_ids=[h.busy.pk, h.lapsed.pk])  # "all history" rebuilds the kept days only
    engagement_rollup_rebuild(customer_ids=[h.busy.pk], days=[(now - 200 * DAY).date(), (now - DAY).date()])
    assert rollup_rows() == before
    out = StringIO()
    call_command("rollup_verify", "--days", "0", stdout=out)
    assert f"all history (raw events kept since {events_raw_since():%Y-%m-%d}): no drift" in out.getvalue()


def test_an_old_row_arriving_after_its_partition_was_dropped_is_kept_then_dropped_by_the_next_run():
    now = timezone.now()
    h = history(now)
    cutoff = events_retention_cutoff(now=now, months=MONTHS)
    events_retention_apply(now=now, months=MONTHS)
    late = EngagementEvent.objects.create(customer=h.busy, kind="invite", occurred_at=cutoff - 40 * DAY)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT tableoid::regclass::text FROM customers_engagementevent WHERE id = %s", [late.pk])
        assert cursor.fetchone()[0] == DEFAULT_PARTITION
    counted = rollup_rows()
    reported = events_retention_apply(now=now, months=MONTHS)  # never drops the DEFAULT partition: reports the row
    assert (reported.dropped, reported.default_rows_before_cutoff) == ((), 1)
    assert EngagementEvent.objects.filter(pk=late.pk).exists()
    moved = events_partitions_ensure(now=now)  # the next run: to a partition of its month, then dropped with it
    assert moved.created == (partition_name(month_start(cutoff - 40 * DAY)),) and moved.moved_rows == 1
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    again = events_retention_apply(now=now, months=MONTHS)
    assert again.dropped == moved.created and again.rows == 1 and again.default_rows_before_cutoff == 0
    assert rollup_rows() == counted  # counted once on arrival, kept after


def test_retention_is_off_by_default_and_never_shorter_than_three_months(settings):
    now = timezone.now()
    history(now)
    assert settings.EVENTS_RETENTION_MONTHS == 0
    assert events_retention_apply(now=now) == RetentionApplied()
    with pytest.raises(ValueError, match="at least 3"):
        events_retention_apply(now=now, months=2)
    assert not EventPartitionDrop.objects.exists()


def test_the_daily_task_makes_partitions_ahead_and_applies_the_retention(settings):
    now = timezone.now()
    history(now)
    settings.EVENTS_RETENTION_MONTHS = MONTHS
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {partition_name(month_start(now + 40 * DAY))}")
    result = maintain_event_partitions.delay().get()
    assert result["created"] == [partition_name(month_start(now + 40 * DAY))]
    assert result["dropped"] and result["cutoff"] == events_retention_cutoff(now=now, months=MONTHS).isoformat()
    assert result["failed"] == [] and result["default_rows_before_cutoff"] == 0


def test_the_command_applies_the_retention():
    now = timezone.now()
    history(now)
    out = StringIO()
    call_command("events_partitions", "--apply-retention", "--months", "3", stdout=out)
    assert out.getvalue().startswith("dropped ") and "raw events kept since" in out.getvalue()


def test_the_admin_lists_the_events_and_the_dropped_partitions(admin_client):
    now = timezone.now()
    h = history(now)
    applied = events_retention_apply(now=now, months=MONTHS)
    dropped = admin_client.get("/admin/customers/eventpartitiondrop/")
    assert dropped.status_code == 200 and applied.dropped[0] in dropped.content.decode()
    events = admin_client.get("/admin/customers/engagementevent/", {"q": h.busy.external_id, "kind__exact": "login"})
    assert events.status_code == 200 and "busy" in events.content.decode()
