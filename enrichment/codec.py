"""Lossless JSON for the context dataclasses.

``to_jsonable`` turns a dataclass tree into JSON-ready primitives (dates and
datetimes as ISO 8601, decimals as strings, tuples as lists). ``from_jsonable``
rebuilds the dataclass from those primitives using its type hints, so the cache
can store JSON (never pickle) and hand back the very same objects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from decimal import Decimal
from typing import Any, TypeVar

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        return _decode(args[0], value) if len(args) == 1 else value
    if origin is tuple:
        (item_type, *_rest) = typing.get_args(tp)
        return tuple(_decode(item_type, item) for item in value)
    if origin is dict:
        _key_type, item_type = typing.get_args(tp)
        return {key: _decode(item_type, item) for key, item in value.items()}
    if origin is typing.Literal:
        return value
    if dataclasses.is_dataclass(tp):
        return from_jsonable(tp, value)
    if tp is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if tp is dt.date:
        return dt.date.fromisoformat(value)
    if tp is Decimal:
        return Decimal(value)
    if tp is float:
        return float(value)
    if tp is Any:
        return value
    return value


def from_jsonable(cls: type[T], data: dict[str, Any]) -> T:
    hints = _hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in data:
            kwargs[field.name] = _decode(hints[field.name], data[field.name])
    return cls(**kwargs)
