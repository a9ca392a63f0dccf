"""Inline SVG geometry for the admin: numbers in, coordinates out.

The templates draw the ``<svg>``; these functions only compute point lists, so
no markup is built in Python and nothing needs ``mark_safe``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: str  # "x,y x,y ..." for <polyline>
    area: str  # path "M... Z" under the line
    last: ChartPoint
    peak: int
    total: int
    marks: tuple[ChartPoint, ...]


def sparkline(values: Sequence[int], *, width: int = 300, height: int = 48, pad: float = 3.0,
              end: dt.date | None = None) -> Sparkline | None:
    """A line over ``values`` (oldest first) scaled to its own maximum."""
    if not values:
        return None
    count = len(values)
    peak = max(max(values), 1)
    step = (width - 2 * pad) / max(count - 1, 1)
    usable = height - 2 * pad
    marks = []
    for i, value in enumerate(values):
        day = end - dt.timedelta(days=count - 1 - i) if end is not None else None
        label = f"{day:%b %d}: {value}" if day is not None else str(value)
        marks.append(ChartPoint(round(pad + i * step, 1), round(pad + usable - value / peak * usable, 1), value, label))
    line = " ".join(f"{p.x},{p.y}" for p in marks)
    base = round(height - pad, 1)
    area = f"M{marks[0].x},{base} L" + " L".join(f"{p.x},{p.y}" for p in marks) + f" L{marks[-1].x},{base} Z"
    return Sparkline(width, height, line, area, marks[-1], peak, sum(values), tuple(marks))


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    plot_width: float
    x_end: float
    points: str
    marks: tuple[ChartPoint, ...]
    guides: tuple[tuple[float, int], ...]  # (y, score) reference lines
    bands: tuple[tuple[float, float, str], ...]  # (y, height, css class) label bands
    x_labels: tuple[tuple[float, str, str], ...]  # (x, text, text-anchor)
    first: float | None
    last: float | None


def weekly_points(rows: Iterable[tuple[dt.date, int]], *, today: dt.date, weeks: int = 12) -> list[tuple[dt.date, float | None]]:
    """Average daily scores into ``weeks`` 7-day buckets ending ``today``;
    oldest first, each labelled with the bucket's last day (None: no data)."""
    sums = [0] * weeks
    counts = [0] * weeks
    for day, score in rows:
        age = (today - day).days
        if 0 <= age < weeks * 7:
            bucket = weeks - 1 - age // 7
            sums[bucket] += score
            counts[bucket] += 1
    return [
        (today - dt.timedelta(days=7 * (weeks - 1 - i)), round(sums[i] / counts[i], 1) if counts[i] else None)
        for i in range(weeks)
    ]


def trend_chart(weekly: Sequence[tuple[dt.date, float | None]], *, width: int = 420, height: int = 150) -> TrendChart | None:
    """A 0-100 health chart with the label thresholds as shaded bands."""
    if not any(value is not None for _, value in weekly):
        return None
    left, right, top, bottom = 28, 10, 8, 22
    plot_w = width - left - right
    plot_h = height - top - bottom
    count = len(weekly)
    step = plot_w / max(count - 1, 1)

    def y_of(score: float) -> float:
        return round(top + plot_h - score / 100 * plot_h, 1)

    marks = tuple(
        ChartPoint(round(left + i * step, 1), y_of(value), value, f"week to {day:%b %d}: {value:g}")
        for i, (day, value) in enumerate(weekly)
        if value is not None
    )
    bands = (
        (y_of(100), y_of(80) - y_of(100), "cc-band-good"),
        (y_of(80), y_of(60) - y_of(80), "cc-band-fair"),
        (y_of(60), y_of(40) - y_of(60), "cc-band-risk"),
        (y_of(40), y_of(0) - y_of(40), "cc-band-critical"),
    )
    x_labels = []
    for i, (day, _) in enumerate(weekly):
        if i % 3 == 2 or i == count - 1:
            x_labels.append((round(left + i * step, 1), f"{day:%b %d}", "end" if i == count - 1 else "middle"))
    return TrendChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        plot_width=plot_w,
        x_end=width - right,
        points=" ".join(f"{p.x},{p.y}" for p in marks),
        marks=marks,
        guides=tuple((y_of(score), score) for score in (0, 40, 60, 80, 100)),
        bands=bands,
        x_labels=tuple(x_labels),
        first=marks[0].value if marks else None,
        last=marks[-1].value if marks else None,
    )


@dataclass(frozen=True)
class CalibrationSeries:
    name: str
    points: str  # "x,y x,y ..." for <polyline>
    marks: tuple[ChartPoint, ...]  # one per bin: x mean score, y observed rate; label "n=..."


@dataclass(frozen=True)
class CalibrationChart:
    size: int
    pad: int
    diagonal: str  # the perfectly calibrated line
    series: tuple[CalibrationSeries, ...]


def calibration_chart(tables: dict[str, Sequence[dict]], *, size: int = 260, pad: int = 24) -> CalibrationChart:
    """Mean score (x) against observed churn rate (y) per bin, both 0..1, for each named table."""
    span = size - 2 * pad

    def xy(score: float, rate: float) -> tuple[float, float]:
        return round(pad + min(1.0, max(0.0, score)) * span, 1), round(size - pad - min(1.0, max(0.0, rate)) * span, 1)

    series = []
    for name, table in tables.items():
        marks = tuple(
            ChartPoint(*xy(row["mean_score"], row["observed"]), row["observed"], f"n={row['n']}, score {row['mean_score']:.2f}")
            for row in table
        )
        series.append(CalibrationSeries(name, " ".join(f"{m.x},{m.y}" for m in marks), marks))
    (x0, y0), (x1, y1) = xy(0, 0), xy(1, 1)
    return CalibrationChart(size=size, pad=pad, diagonal=f"{x0},{y0} {x1},{y1}", series=tuple(series))
