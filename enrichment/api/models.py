from __future__ import annotations

from django.conf import settings
from django.db import models

from enrichment.context.scopes import TokenScope


class ApiToken(models.Model):
    """An API key for agents. The secret is shown once and stored as a SHA-256
    hash; ``prefix`` finds the row without scanning."""

    name = models.CharField(max_length=100, unique=True, help_text="Who or what uses the token; unique.")
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=20, choices=TokenScope.choices, default=TokenScope.FULL)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "enrichment_apitoken"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.scope})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
