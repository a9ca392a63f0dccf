"""Reading ``timestamptz`` values without Python-level parsing.

Django registers, on every PostgreSQL connection, a ``timestamptz`` loader
that subclasses psycopg's pure-Python one (to attach the connection's time
zone), so each timestamp of every row is parsed by a regular expression in
Python: the largest single cost of reading ticket rows (about 60 % of the
support history's batch read, measured). With the session in UTC, which is
what Django sets up, PostgreSQL writes them as ``2025-11-14 09:30:15.123456+00``,
which :meth:`datetime.fromisoformat` (C) parses to the very same aware
datetime. Anything else (another session time zone, ``infinity``, BC or
five-digit years) goes through Django's loader as before.

Installed by :func:`use_fast_timestamptz` on ``connection_created`` (see
``enrichment.apps``); the loader keeps Django's ``timezone`` attribute, so
Django's cursors keep it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.backends.postgresql.psycopg_any import BaseTzLoader, is_psycopg3
from django.db.models import Field, ForeignObject, Lookup, Q

_fromisoformat = dt.datetime.fromisoformat
_UTC = dt.UTC


class UtcTimestamptzLoader(BaseTzLoader):
    """Django's ``timestamptz`` loader for a UTC connection, parsing in C."""

    timezone = _UTC

    def load(self, data: Any) -> dt.datetime:
        try:
            value = _fromisoformat(str(data, "ascii"))
        except ValueError:
            return super().load(data)
        if value.tzinfo is not _UTC:  # not a UTC session: as Django reads it
            return super().load(data)
        return value


def use_fast_timestamptz(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: PostgreSQL connections in UTC read
    timestamps with :class:`UtcTimestamptzLoader`."""
    if connection.vendor != "postgresql" or not is_psycopg3 or connection.timezone is not _UTC:
        return
    connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)


# -- IN lists as one array ------------------------------------------------------------------------


class AnyOf(Lookup):
    """``field__any_of=[...]``: ``field IN (...)`` written ``field = ANY(%s)``
    on PostgreSQL, with the whole list as one array parameter. A batch of 500
    customers then costs the ORM, the driver and the server one parameter
    instead of 500 (no per-element preparation, a statement text that does
    not change with the batch's size). Elsewhere (SQLite) it is the IN list."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list:
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)


def any_of(field: str, values: Iterable[Any]) -> Q:
    """``Q(<field>__in=values)`` as one array parameter on PostgreSQL (:class:`AnyOf`)."""
    return Q(**{f"{field}__any_of": list(values)})
