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


EDGE_CASES = [
    NOW,  # late in the day
    dt.datetime(2026, 12, 2, 3, 10, tzinfo=dt.UTC),  # early
    dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=dt.UTC),
]


@pytest.mark.parametrize("now", EDGE_CASES)
def test_rollup_days_plus_raw_corrections_count_every_instant_exactly_once(now):
    """Walk 62 days around the windows (and their edges): the rollup's share of
    an instant plus the signed raw corrections is 1 in the window it belongs
    to and 0 elsewhere, including instants after ``now``."""
    cut = split(now)
    first, last = cut.rollup_days
    probes = [cut.previous.start - dt.timedelta(days=1) + dt.timedelta(minutes=37 * i) for i in range(62 * 24 * 60 // 37 + 2)]
    probes += [cut.previous.start, cut.current.start, now, cut.head_edge, cut.split_edge, cut.tail_edge]
    probes += [p + d for p in list(probes[-6:]) for d in (dt.timedelta(microseconds=1), -dt.timedelta(microseconds=1))]
    signs = {True: {"head": (0, -1), "split": (-1, 1), "tail": (-1, 0)}, False: {"head": (0, 1), "split": (1, -1), "tail": (-1, 0)}}
    for t in probes:
        day = t.date()
        current = previous = 0
        if first <= day <= last:
            current, previous = (1, 0) if day >= cut.current_from else (0, 1)
        for name, q in (("head", cut.head_q("t")), ("split", cut.split_q("t")), ("tail", cut.tail_q("t"))):
            if all(_holds(t, lookup, bound) for lookup, bound in q.children):
                d_current, d_previous = signs[cut.early][name]
                current, previous = current + d_current, previous + d_previous
        assert (current, previous) == (int(t in cut.current), int(t in cut.previous)), t


def test_the_raw_corrections_read_at_most_half_a_day_at_each_edge():
    for now in EDGE_CASES:
        cut = split(now)
        for q in (cut.head_q("t"), cut.split_q("t")):
            bounds = [bound for _lookup, bound in q.children]
            assert max(bounds) - min(bounds) <= dt.timedelta(hours=12)


def _holds(t: dt.datetime, lookup: str, bound: dt.datetime) -> bool:
    op = lookup.rsplit("__", 1)[1]
    return {"gt": t > bound, "gte": t >= bound, "lt": t < bound, "lte": t <= bound}[op]
