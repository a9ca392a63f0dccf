"""What "the last 30 days" means, in one place.

A window is the half-open interval ``(start, end]``: an instant ``t`` is in
it when ``start < t <= end``. "The last 30 days" at ``now`` is
``(now - 30 days, now]``; "the 30 days before" is
``(now - 60 days, now - 30 days]``. Every figure of a context uses these
(logins, active days, features, API calls, errors, tickets, the trend), so a
login 29 days 23 hours ago counts and one 30 days and a second ago does not.

Counting such a window reads the daily rollup and corrects it at the edges
with the raw rows of at most half a day each (:func:`split`), whatever the
account's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import DateTimeField, Expression, Func, Q

WINDOW_DAYS = 30


def midnight(day: dt.date) -> dt.datetime:
    """The first instant of a UTC day."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def utc_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(dt.UTC).date()


class UtcDayStart(Func):
    """The first instant of a date's UTC day, ``days`` later: a bound on
    ``occurred_at`` that PostgreSQL prunes the events' monthly partitions by."""

    output_field = DateTimeField()

    def __init__(self, expression: Any, *, days: int = 0):
        super().__init__(expression)
        self.days = int(days)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotImplementedError(f"UtcDayStart on {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"(({sql} + {self.days})::timestamp AT TIME ZONE 'UTC')", params

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"datetime({sql}, '+{self.days} days')", params


class InstantLiteral(Expression):
    """An instant written into the SQL as a literal, not a parameter (see :func:`within_months`)."""

    output_field = DateTimeField()

    def __init__(self, instant: dt.datetime):
        super().__init__()
        self.instant = instant.astimezone(dt.UTC)

    def as_sql(self, compiler, connection, **extra_context):
        text = f"{self.instant:%Y-%m-%d %H:%M:%S}"  # our own value, not input
        if connection.vendor == "postgresql":
            return f"'{text}+00'::timestamptz", []
        return f"'{text}'", []  # SQLite: the text Django stores (UTC)


def within_months(field: str, first: dt.date, last: dt.date | None = None) -> Q:
    """``field`` within the UTC months of ``first`` to ``last`` (default: the
    same), the bounds written into the SQL as literals. The events are
    partitioned by month on PostgreSQL, which then prunes a read to those
    months' partitions when it plans the statement: a prepared statement's
    one generic plan serves every call. With the bounds as parameters only,
    pruning waits for their values and every call is planned again, over
    every partition the values might reach (more time than the read itself).
    Redundant with the exact bounds beside it: any layout gives the same rows."""
    last = last or first
    start = midnight(first.replace(day=1))
    end = midnight((last.replace(day=28) + dt.timedelta(days=4)).replace(day=1))
    return Q(**{f"{field}__gte": InstantLiteral(start), f"{field}__lt": InstantLiteral(end)})


@dataclass(frozen=True, slots=True)
class Window:
    """The interval ``(start, end]``."""

    start: dt.datetime
    end: dt.datetime

    def __contains__(self, instant: dt.datetime) -> bool:
        return self.start < instant <= self.end

    def q(self, field: str) -> Q:
        """The ORM filter ``start < field <= end``."""
        return Q(**{f"{field}__gt": self.start, f"{field}__lte": self.end})

    def before(self) -> Window:
        """The window of the same length that ends where this one starts."""
        return Window(self.start - (self.end - self.start), self.start)


def trailing(now: dt.datetime, *, days: int = WINDOW_DAYS) -> Window:
    """The last ``days`` days up to and including ``now``."""
    return Window(now - dt.timedelta(days=days), now)


@dataclass(frozen=True, slots=True)
class Split:
    """A current window and the one before it, cut so that the daily rollup
    answers almost everything and the raw rows only correct the edges.

    The rollup is read for every UTC day from the previous window's first day
    to today: days from ``current_from`` on count as current, earlier days as
    previous. Three instants (``previous.start``, ``current.start`` and
    ``now``) fall inside a day, so the raw rows of part of those days correct
    the sums, always the shorter part (``early``: ``now`` is in the first
    half of its UTC day, and so are the other two, whole days apart):

    ============  ==============================  ===========================
    edge          early                           late
    ============  ==============================  ===========================
    head day      ``[midnight, previous.start]``  ``(previous.start, next
                  counted but outside: -1 prev    midnight)``: day not read
                                                  from the rollup, +1 prev
    split day     ``[midnight, current.start]``:  ``(current.start, next
                  day counted current; these      midnight)``: day counted
                  -1 current, +1 previous         previous; these +1 current,
                                                  -1 previous
    today         ``(now, next midnight)``: future events counted: -1 current
    ============  ==============================  ===========================

    So the raw rows read are at most half a day at two edges (plus any
    events dated after ``now``, normally none), however old the account.
    Every instant and day the queries need is a field, so a compiled
    statement takes them as parameters.
    """

    current: Window
    previous: Window
    early: bool
    rollup_days: tuple[dt.date, dt.date]
    current_from: dt.date
    head_edge: dt.datetime
    split_edge: dt.datetime
    tail_edge: dt.datetime

    def head_q(self, field: str) -> Q:
        if self.early:
            return Q(**{f"{field}__gte": self.head_edge, f"{field}__lte": self.previous.start})
        return Q(**{f"{field}__gt": self.previous.start, f"{field}__lt": self.head_edge})

    def split_q(self, field: str) -> Q:
        if self.early:
            return Q(**{f"{field}__gte": self.split_edge, f"{field}__lte": self.current.start})
        return Q(**{f"{field}__gt": self.current.start, f"{field}__lt": self.split_edge})

    def tail_q(self, field: str) -> Q:
        return Q(**{f"{field}__gt": self.current.end, f"{field}__lt": self.tail_edge})

    def raw_q(self, field: str) -> Q:
        return self.head_q(field) | self.split_q(field) | self.tail_q(field)

    @property
    def edge_days(self) -> tuple[dt.date, dt.date, dt.date]:
        """The UTC days of the head, split and tail edges (each edge is a part of its day)."""
        return utc_day(self.previous.start), utc_day(self.current.start), utc_day(self.current.end)


def split(now: dt.datetime, *, days: int = WINDOW_DAYS) -> Split:
    """The last ``days`` days and the ``days`` before them, cut for counting."""
    if days < 2:
        raise ValueError("a split window needs at least two days")
    current = trailing(now, days=days)
    previous = current.before()
    head_day, split_day, today = utc_day(previous.start), utc_day(current.start), utc_day(now)
    early = now - midnight(today) <= dt.timedelta(hours=12)
    one = dt.timedelta(days=1)
    return Split(
        current=current,
        previous=previous,
        early=early,
        rollup_days=(head_day if early else head_day + one, today),
        current_from=split_day if early else split_day + one,
        head_edge=midnight(head_day) if early else midnight(head_day + one),
        split_edge=midnight(split_day) if early else midnight(split_day + one),
        tail_edge=midnight(today + one),
    )
