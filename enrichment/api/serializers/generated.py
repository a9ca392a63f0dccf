"""Serializers generated from the context dataclasses, for the OpenAPI schema
only (responses are rendered by the dataclasses themselves), so the
documentation cannot drift from the JSON. Fields a customer-facing token never
sees are optional there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from decimal import Decimal
from typing import Any

from rest_framework import serializers


def _field_for(tp: Any, *, name: str, required: bool = True, allow_null: bool = False) -> serializers.Field:
    kwargs: dict[str, Any] = {"required": required}
    if allow_null:
        kwargs["allow_null"] = True
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if len(args) == 1:
            return _field_for(args[0], name=name, required=required, allow_null=True)
        return serializers.JSONField(allow_null=True, required=required)
    if origin is tuple:
        return serializers.ListField(child=_field_for(typing.get_args(tp)[0], name=name), **kwargs)
    if origin is dict:
        return serializers.DictField(child=_field_for(typing.get_args(tp)[1], name=name), **kwargs)
    if dataclasses.is_dataclass(tp):
        return dataclass_serializer(tp)(**kwargs)
    simple = {
        str: serializers.CharField,
        bool: serializers.BooleanField,
        int: serializers.IntegerField,
        float: serializers.FloatField,
        dt.datetime: serializers.DateTimeField,
        dt.date: serializers.DateField,
    }
    if tp is Decimal:
        return serializers.DecimalField(max_digits=None, decimal_places=2, coerce_to_string=True, **kwargs)
    if tp in simple:
        return simple[tp](**kwargs)
    return serializers.JSONField(**kwargs)


_GENERATED: dict[tuple[type, frozenset[str]], type[serializers.Serializer]] = {}


def dataclass_serializer(cls: type, *, exclude: frozenset[str] = frozenset()) -> type[serializers.Serializer]:
    """A serializer class mirroring a context dataclass, for the schema only."""
    cache_key = (cls, exclude)
    if cache_key in _GENERATED:
        return _GENERATED[cache_key]
    hints = typing.get_type_hints(cls)
    attrs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in exclude:
            continue
        attrs[field.name] = _field_for(hints[field.name], name=field.name, required=True)
    name = cls.__name__ + ("Public" if exclude else "")
    doc = (cls.__doc__ or "").strip()
    if doc.startswith(f"{cls.__name__}("):  # the signature dataclasses write when there is no docstring
        doc = ""
    serializer = type(name, (serializers.Serializer,), {**attrs, "__doc__": doc or None})
    _GENERATED[cache_key] = serializer
    return serializer


def section_field(cls: type, *, exclude: frozenset[str] = frozenset(), **kwargs: Any) -> serializers.Serializer:
    """An optional field for a context section (absent with ``?sections=``)."""
    return dataclass_serializer(cls, exclude=exclude)(required=False, **kwargs)

