"""API tokens in the admin: list (name, scope, prefix, created, last used,
status), create (the secret is shown once, on the page that follows, and never
stored or put in a message cookie), revoke (an action; tokens are never deleted
so their history stays)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from enrichment.admin.formatting import freshness
from enrichment.api.models import ApiToken
from enrichment.api.tokens import api_token_create, api_token_revoke


class TokenStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "scope", "prefix", "created_at", "created_by", "last_used", "status")
    list_filter = (TokenStatusFilter, "scope")
    search_fields = ("name", "prefix")
    ordering = ("name",)
    actions = ["revoke_selected"]
    readonly_fields = ("prefix", "scope", "created_at", "created_by", "last_used_at", "revoked_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "scope")
        return ("name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row stays as a record

    @admin.display(description="last used", ordering="last_used_at")
    def last_used(self, obj: ApiToken) -> str:
        return freshness(obj.last_used_at) if obj.last_used_at else "never"

    @admin.display(description="status", ordering="revoked_at")
    def status(self, obj: ApiToken) -> str:
        return f"revoked {timezone.localtime(obj.revoked_at):%Y-%m-%d %H:%M}" if obj.revoked_at else "active"

    def save_model(self, request, obj: ApiToken, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        token, raw = api_token_create(name=obj.name, scope=obj.scope, created_by=request.user)
        obj.pk, obj.prefix, obj.key_hash, obj.created_at, obj.created_by = (
            token.pk,
            token.prefix,
            token.key_hash,
            token.created_at,
            token.created_by,
        )
        obj._state.adding = False
        request._api_token_secret = raw

    def response_add(self, request, obj: ApiToken, post_url_continue=None):
        raw = getattr(request, "_api_token_secret", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "token": obj,
            "secret": raw,
            "title": f"Token '{obj.name}' created",
        }
        response = TemplateResponse(request, "admin/enrichment_api/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s); other processes refuse them within a few seconds.", messages.SUCCESS)
