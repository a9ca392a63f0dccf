"""API tokens for agents: create, revoke, verify.

A token reads ``cce_<prefix>_<secret>``. The prefix (12 hex characters) is
stored in clear and finds the row by its unique index; the secret is stored
only as its SHA-256 hex digest and compared in constant time. The full token
is shown once, by :func:`api_token_create`, and cannot be recovered later.

Verification keeps a small in-process cache of token rows (``API_TOKEN_CACHE_TTL``
seconds, default 5) so an authenticated request costs no database query on the
hot path. :func:`api_token_revoke` drops the entry in its own process at once;
other processes stop accepting a revoked token within that TTL.
``last_used_at`` is written at most once a minute per token and process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from enrichment.api.models import ApiToken
from enrichment.context.scopes import TokenScope

TOKEN_NAMESPACE = "cce"
PREFIX_LENGTH = 12
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
_TOKEN_RE = re.compile(rf"^{TOKEN_NAMESPACE}_([0-9a-f]{{{PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{20,128}})$")


class InvalidToken(Exception):
    """The presented token is malformed, unknown, wrong or revoked."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """What a request knows about the token it was made with."""

    pk: int
    name: str
    prefix: str
    scope: str

    @property
    def is_full(self) -> bool:
        return self.scope == TokenScope.FULL


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(*, name: str, scope: str = TokenScope.FULL, created_by=None) -> tuple[ApiToken, str]:
    """Create a token and return it with the full token string (``cce_<prefix>_<secret>``),
    which is the only time the secret exists outside the caller's hands."""
    name = (name or "").strip()
    if scope not in TokenScope.values:
        raise ValidationError({"scope": f"scope must be one of: {', '.join(TokenScope.values)}"})
    if name and ApiToken.objects.filter(name=name).exists():
        raise ValidationError({"name": f"A token named {name!r} already exists (revoked or not); choose another name."})
    secret = secrets.token_urlsafe(32)
    while True:
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    token = ApiToken(name=name, prefix=prefix, key_hash=hash_secret(secret), scope=scope, created_by=created_by)
    token.full_clean()
    token.save()
    return token, f"{TOKEN_NAMESPACE}_{prefix}_{secret}"


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token (idempotent). This process rejects it at once, others
    within ``API_TOKEN_CACHE_TTL`` seconds."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    prefix = token.prefix
    transaction.on_commit(lambda: _CACHE.drop(prefix))
    _CACHE.drop(prefix)
    return token


def api_token_verify(*, raw_token: str) -> VerifiedToken:
    """The token a raw ``cce_<prefix>_<secret>`` string stands for, or :class:`InvalidToken`."""
    match = _TOKEN_RE.match(raw_token)
    if match is None:
        raise InvalidToken("malformed token")
    prefix, secret = match.groups()
    row = _CACHE.get(prefix)
    if row is None:
        found = ApiToken.objects.filter(prefix=prefix).values_list("pk", "name", "key_hash", "scope", "revoked_at", "last_used_at").first()
        if found is None:
            hmac.compare_digest(hash_secret(secret), "0" * 64)  # same work as a known prefix
            raise InvalidToken("unknown token")
        row = _Row(*found)
        _CACHE.put(prefix, row)
    if not hmac.compare_digest(hash_secret(secret), row.key_hash):
        raise InvalidToken("wrong secret")
    if row.revoked_at is not None:
        raise InvalidToken("revoked token")
    _touch(prefix, row)
    return VerifiedToken(pk=row.pk, name=row.name, prefix=prefix, scope=row.scope)


def _touch(prefix: str, row: _Row) -> None:
    """Record use at most once per ``LAST_USED_RESOLUTION``: a conditional
    UPDATE, so concurrent processes do not all write."""
    now = timezone.now()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_RESOLUTION:
        return
    row.last_used_at = now
    ApiToken.objects.filter(pk=row.pk).filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)).update(
        last_used_at=now
    )


@dataclass(slots=True)
class _Row:
    pk: int
    name: str
    key_hash: str
    scope: str
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class _TokenCache:
    """A tiny bounded TTL map, prefix -> token row, shared by the process's threads."""

    max_entries = 1000

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, _Row]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def ttl() -> float:
        return float(getattr(settings, "API_TOKEN_CACHE_TTL", 5.0))

    def get(self, prefix: str) -> _Row | None:
        if self.ttl() <= 0:
            return None
        entry = self._data.get(prefix)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, prefix: str, row: _Row) -> None:
        ttl = self.ttl()
        if ttl <= 0:
            return
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[prefix] = (time.monotonic() + ttl, row)

    def drop(self, prefix: str) -> None:
        with self._lock:
            self._data.pop(prefix, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_CACHE = _TokenCache()


def reset_token_cache() -> None:
    """Forget every cached token row (tests, or after a bulk change in the database)."""
    _CACHE.clear()
