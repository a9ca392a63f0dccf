"""Lossless JSON for the context dataclasses.

``to_jsonable`` turns a dataclass tree into JSON-ready primitives (dates and
datetimes as ISO 8601, decimals as strings, tuples as lists). ``from_jsonable``
rebuilds the dataclass from those primitives using its type hints, so the cache
can store JSON (never pickle) and hand back the very same objects.

Both directions are compiled once per dataclass into a plain function (one
expression per field, chosen from the field's type hint), because a generic
walk that inspects every value costs several times more on the hot paths: the
cold enrichment writes the JSON, the batch refresh writes thousands.

The bytes themselves are written and read by orjson (:func:`json_bytes`,
:func:`json_loads`): it serialises the frozen dataclasses, dates and
datetimes (ISO 8601, as ``isoformat()``) natively, with decimals as strings,
so a context's JSON is written without building its dicts first
(:meth:`~enrichment.context.enriched.EnrichedContext.to_json`), and parsed in
a third of ``json.loads``'s time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from decimal import Decimal
from typing import Any, TypeVar

import orjson

T = TypeVar("T")


def _generic(value: Any) -> Any:
    """Fallback for values typed ``Any`` (e.g. flag evidence)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encoder(type(value))(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_generic(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _generic(item) for key, item in value.items()}
    return value


def to_jsonable(value: Any) -> Any:
    return _generic(value)


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _optional_arg(tp: Any) -> Any | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return None


# -- encoders -----------------------------------------------------------------------


def _encode_expr(tp: Any, expr: str, env: dict[str, Any]) -> str:
    inner = _optional_arg(tp)
    if inner is not None:
        return f"(None if {expr} is None else {_encode_expr(inner, expr, env)})"
    origin = typing.get_origin(tp)
    if tp in (str, int, float, bool):
        return expr
    if tp in (dt.datetime, dt.date):
        return f"{expr}.isoformat()"
    if tp is Decimal:
        return f"str({expr})"
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        return f"[{_encode_expr(item_type, '_i', env)} for _i in {expr}]"
    if origin is dict:
        item_type = typing.get_args(tp)[1]
        return f"{{_k: {_encode_expr(item_type, '_v', env)} for _k, _v in {expr}.items()}}"
    if dataclasses.is_dataclass(tp):
        name = f"_enc_{tp.__name__}"
        env[name] = _encoder(tp)
        return f"{name}({expr})"
    env["_generic"] = _generic
    return f"_generic({expr})"


@functools.cache
def _encoder(cls: type) -> typing.Callable[[Any], dict[str, Any]]:
    env: dict[str, Any] = {}
    items = [
        f"{field.name!r}: {_encode_expr(field_types(cls)[field.name], 'o.' + field.name, env)}"
        for field in dataclasses.fields(cls)
    ]
    source = "def encode(o):\n    return {" + ", ".join(items) + "}\n"
    exec(source, env)  # noqa: S102 - generated from the dataclass's own type hints
    return env["encode"]


def encode_dataclass(value: Any) -> dict[str, Any]:
    return _encoder(type(value))(value)


# -- decoders -----------------------------------------------------------------------


def _decode_expr(tp: Any, expr: str, env: dict[str, Any]) -> str:
    inner = _optional_arg(tp)
    if inner is not None:
        return f"(None if {expr} is None else {_decode_expr(inner, expr, env)})"
    origin = typing.get_origin(tp)
    if tp in (str, int, bool) or tp is Any or origin is typing.Literal:
        return expr
    if tp is float:
        return f"float({expr})"
    if tp is dt.datetime:
        env["_datetime"] = dt.datetime
        return f"_datetime.fromisoformat({expr})"
    if tp is dt.date:
        env["_date"] = dt.date
        return f"_date.fromisoformat({expr})"
    if tp is Decimal:
        env["_Decimal"] = Decimal
        return f"_Decimal({expr})"
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        return f"tuple({_decode_expr(item_type, '_i', env)} for _i in {expr})"
    if origin is dict:
        item_type = typing.get_args(tp)[1]
        return f"{{_k: {_decode_expr(item_type, '_v', env)} for _k, _v in {expr}.items()}}"
    if dataclasses.is_dataclass(tp):
        name = f"_dec_{tp.__name__}"
        env[name] = _decoder(tp)
        return f"{name}({expr})"
    return expr


@functools.cache
def _decoder(cls: type) -> typing.Callable[[dict[str, Any]], Any]:
    env: dict[str, Any] = {"_cls": cls}
    lines = ["def decode(d):", "    kw = {}"]
    for field in dataclasses.fields(cls):
        value = _decode_expr(field_types(cls)[field.name], "_x", env)
        lines.append(f"    if {field.name!r} in d:")
        lines.append(f"        _x = d[{field.name!r}]")
        lines.append(f"        kw[{field.name!r}] = {value}")
    lines.append("    return _cls(**kw)")
    exec("\n".join(lines) + "\n", env)  # noqa: S102 - generated from the dataclass's own type hints
    return env["decode"]


def decode_value(tp: Any, value: Any) -> Any:
    """Decode one value of type ``tp`` (used for a single field of a context)."""
    return _value_decoder(tp)(value)


@functools.cache
def _value_decoder(tp: Any) -> typing.Callable[[Any], Any]:
    env: dict[str, Any] = {}
    source = f"def decode(_x):\n    return {_decode_expr(tp, '_x', env)}\n"
    exec(source, env)  # noqa: S102 - generated from the dataclass's own type hints
    return env["decode"]


def from_jsonable(cls: type[T], data: dict[str, Any]) -> T:
    return _decoder(cls)(data)


# -- bytes ----------------------------------------------------------------------------


@functools.cache
def _fields_getter(cls: type) -> typing.Callable[[Any], dict[str, Any]]:
    """``{field: value}`` of a dataclass, values as they are (orjson writes them)."""
    env: dict[str, Any] = {}
    items = ", ".join(f"{field.name!r}: o.{field.name}" for field in dataclasses.fields(cls))
    exec(f"def fields(o):\n    return {{{items}}}\n", env)  # noqa: S102 - generated from the dataclass's own fields
    return env["fields"]


_GETTERS: dict[type, typing.Callable[[Any], Any]] = {Decimal: str}


def _orjson_default(value: Any) -> Any:
    """What orjson is not left to write itself, as :func:`to_jsonable` writes it:
    dataclasses as their fields (orjson's own path for slotted dataclasses is
    several times slower than this generated getter), decimals as strings."""
    getter = _GETTERS.get(type(value))
    if getter is not None:
        return getter(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        getter = _GETTERS[type(value)] = _fields_getter(type(value))
        return getter(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):  # a float subclass (numpy's float64): the float json.dumps writes
        return float(value)
    if isinstance(value, int):
        return int(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_bytes(value: Any) -> bytes:
    """``value`` as compact JSON bytes: dataclasses (as their fields), dates and
    datetimes (ISO 8601) and decimals (strings) as :func:`to_jsonable` gives
    them. Raises ``TypeError`` for anything else orjson cannot write (e.g. a
    dict with keys that are not strings, an integer beyond 64 bits)."""
    return orjson.dumps(value, default=_orjson_default, option=orjson.OPT_PASSTHROUGH_DATACLASS)


def json_fragment(value: Any, shared: dict[int, tuple[Any, Any]]) -> Any:
    """``value`` (immutable) as JSON already written, written once per ``shared``
    memo however many documents of a batch contain that very object (the
    memo keeps it alive, so its id stays its own)."""
    hit = shared.get(id(value))
    if hit is None:
        hit = shared[id(value)] = (value, orjson.Fragment(json_bytes(value)))
    return hit[1]


json_loads: typing.Callable[[bytes | str], Any] = orjson.loads
"""Parse JSON (``orjson.JSONDecodeError``, a ``ValueError``, when malformed); orjson's own function, no wrapper (the L2 hit path)."""
