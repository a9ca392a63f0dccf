"""What "the last 30 days" means, in one place.

A window is the half-open interval ``(start, end]``: an instant ``t`` is in
it when ``start < t <= end``. "The last 30 days" at ``now`` is
``(now - 30 days, now]``; "the 30 days before" is
``(now - 60 days, now - 30 days]``. Every figure of a context uses these
(logins, active days, features, API calls, errors, tickets, the trend), so a
login 29 days 23 hours ago counts and one 30 days and a second ago does not.

Counting such a window costs a constant number of index probes: the UTC days
wholly inside it come from the daily rollup, the two partial days at its edges
from the raw rows (:func:`split`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

WINDOW_DAYS = 30


def midnight(day: dt.date) -> dt.datetime:
    """The first instant of a UTC day."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def utc_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(dt.UTC).date()


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

    @property
    def whole_days(self) -> tuple[dt.date, dt.date]:
        """The first and last UTC days lying wholly inside the window (the
        first is after the last when there is none)."""
        return utc_day(self.start) + dt.timedelta(days=1), utc_day(self.end) - dt.timedelta(days=1)

    def before(self) -> Window:
        """The window of the same length that ends where this one starts."""
        return Window(self.start - (self.end - self.start), self.start)


def trailing(now: dt.datetime, *, days: int = WINDOW_DAYS) -> Window:
    """The last ``days`` days up to and including ``now``."""
    return Window(now - dt.timedelta(days=days), now)


@dataclass(frozen=True, slots=True)
class Split:
    """A current window and the one before it, cut where the daily rollup can
    answer (whole UTC days) and where only the raw rows can (the edges).

    - ``rollup_days``: the days to read from the rollup, ``split_day`` excluded;
      days after ``split_day`` are current, days before it previous.
    - :meth:`raw_q`: the raw rows of everything else: the partial first day of
      the previous window (``previous.start < t < head_end``), the whole
      ``split_day`` (the current window starts inside it) and today up to
      ``now`` (``today_start <= t <= current.end``). A raw row is current when
      it is after ``current.start``.

    Every instant the queries need is a field, so a compiled statement takes
    them as parameters.
    """

    current: Window
    previous: Window
    rollup_days: tuple[dt.date, dt.date]
    split_day: dt.date
    head_end: dt.datetime
    split_start: dt.datetime
    split_end: dt.datetime
    today_start: dt.datetime

    def raw_q(self, field: str) -> Q:
        head = Q(**{f"{field}__gt": self.previous.start, f"{field}__lt": self.head_end})
        middle = Q(**{f"{field}__gte": self.split_start, f"{field}__lt": self.split_end})
        tail = Q(**{f"{field}__gte": self.today_start, f"{field}__lte": self.current.end})
        return head | middle | tail


def split(now: dt.datetime, *, days: int = WINDOW_DAYS) -> Split:
    """The last ``days`` days and the ``days`` before them, cut for counting."""
    if days < 2:
        raise ValueError("a split window needs at least two days")
    current = trailing(now, days=days)
    previous = current.before()
    first = previous.whole_days[0]
    split_day = utc_day(current.start)
    return Split(
        current=current,
        previous=previous,
        rollup_days=(first, current.whole_days[1]),
        split_day=split_day,
        head_end=midnight(first),
        split_start=midnight(split_day),
        split_end=midnight(split_day + dt.timedelta(days=1)),
        today_start=midnight(utc_day(now)),
    )
