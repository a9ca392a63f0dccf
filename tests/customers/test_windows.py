"""One definition of "the last 30 days": ``now - 30 days < t <= now``."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.windows import split, trailing

NOW = dt.datetime(2026, 12, 2, 15, 30, 0, tzinfo=dt.UTC)


def test_the_window_is_open_at_its_start_and_closed_at_now():
    window = trailing(NOW)
    assert NOW in window
    assert NOW - dt.timedelta(days=30) not in window
    assert NOW - dt.timedelta(days=29, hours=23, minutes=59, seconds=59) in window
    assert NOW + dt.timedelta(microseconds=1) not in window


def test_the_previous_window_ends_where_the_current_starts():
    cut = split(NOW)
    assert cut.previous.end == cut.current.start
    assert cut.current.start in cut.previous
    assert cut.previous.start == NOW - dt.timedelta(days=60)


EDGE_CASES = [NOW, dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=dt.UTC)]


@pytest.mark.parametrize("now", EDGE_CASES)
def test_every_instant_is_counted_once_by_exactly_one_part_of_the_split(now):
    """Walk the 60 days hour by hour (plus the edges): each instant in either
    window falls in the rollup's whole days or the raw edges, never both."""
    cut = split(now)
    first, last = cut.rollup_days
    probes = [cut.previous.start + dt.timedelta(minutes=37 * i) for i in range(60 * 24 * 60 // 37 + 2)]
    probes += [cut.previous.start, cut.current.start, now, cut.split_start, cut.split_end, cut.today_start, cut.head_end]
    for t in probes:
        in_windows = t in cut.current or t in cut.previous
        day = t.date()
        by_rollup = first <= day <= last and day != cut.split_day
        raw = cut.raw_q("t")  # evaluate the Q's bounds by hand
        by_raw = any(
            all(_holds(t, lookup, bound) for lookup, bound in part.children) for part in raw.children
        )
        assert (by_rollup or by_raw) == in_windows, t
        assert not (by_rollup and by_raw), t


def _holds(t: dt.datetime, lookup: str, bound: dt.datetime) -> bool:
    op = lookup.rsplit("__", 1)[1]
    return {"gt": t > bound, "gte": t >= bound, "lt": t < bound, "lte": t <= bound}[op]
