"""The injection corpus over the conversation parts: ticket subjects (the
account's open tickets, the requester's, the ticket being answered) and the
requester's name, title and roles, in the internal and the customer-facing
blocks, with and without a budget."""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata

import pytest

from enrichment.context.customer_view import customer_prompt
from enrichment.context.prompt import CLOSE_TAG, OPEN_TAG, render_prompt
from enrichment.context.requester import Conversation, Requester, TicketInFocus
from enrichment.context.sections import TicketBrief
from tests.enrichment.context.test_prompt_safety import HARMLESS, INJECTION_CORPUS, NOW, assert_block_is_safe, build

CUSTOMER_LABELS = (
    "As of:", "Audience:", "Company:", "Plan:", "Requester:", "Ticket being answered:", "Subscription:", "Open tickets:",
    "Known incidents affecting them:", "Changes since last contact:", "- ", "[Omitted",
)  # fmt: skip


def brief(payload: str, n: int) -> TicketBrief:
    return TicketBrief(
        id=900 + n, subject=f"{payload} #{n}", status="open", priority="urgent", category=payload, channel=payload,
        created_at=NOW - dt.timedelta(hours=n + 1), updated_at=NOW,
    )  # fmt: skip


def with_conversation(payload: str):
    tickets = tuple(brief(payload, n) for n in range(7))
    base = build(payload)
    context = base.replace(support_history=dataclasses.replace(base.support_history, open_tickets=7, open_ticket_list=tickets[:5]))
    requester = Requester(
        email="jane@acme.com", name=payload, title=payload, role=payload, account_roles=("admin", payload),
        features_30d=(payload,), tickets_total=7, open_tickets_count=7, open_tickets=tickets, recent_tickets=tickets[:5],
    )  # fmt: skip
    ticket = TicketInFocus(
        id=901, subject=payload, status="open", priority=payload, category=payload, channel=payload, created_at=NOW - dt.timedelta(hours=3),
    )  # fmt: skip
    return context, Conversation(requester=requester, ticket=ticket, as_of=NOW)


def assert_customer_block_is_safe(text: str) -> None:
    assert text.startswith(OPEN_TAG + "\n") and text.endswith("\n" + CLOSE_TAG)
    assert text.count(OPEN_TAG) == 1 and text.count(CLOSE_TAG) == 1
    body = text[len(OPEN_TAG) : -len(CLOSE_TAG)]
    assert "<" not in body and ">" not in body
    lines = text.split("\n")
    assert text.splitlines() == lines
    for char in text:
        if char != "\n":
            assert unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"), repr(char)
    for line in lines[1:-1]:
        assert line == "" or line.startswith(CUSTOMER_LABELS), line[:120]
        assert len(line) <= 300
    for header in CUSTOMER_LABELS[:-2]:
        assert sum(1 for line in lines if line.startswith(header)) <= 1, header


@pytest.mark.parametrize("payload", list(INJECTION_CORPUS.values()), ids=list(INJECTION_CORPUS))
def test_internal_block_with_hostile_subjects_and_names(payload):
    context, conversation = with_conversation(payload)
    text = render_prompt(context, conversation=conversation)
    assert_block_is_safe(text, red_flags=2)
    lines = text.split("\n")
    for header in ("Requester:", "Ticket being answered:", "Open tickets:"):
        assert lines.count(header) == 1
    assert sum(1 for line in lines if line.startswith("- Their open ticket: #")) == 3
    assert "- and 2 more" in lines  # 7 open, 5 listed
    assert_block_is_safe(render_prompt(context, conversation=conversation, max_chars=400), red_flags=2)


@pytest.mark.parametrize("payload", list(INJECTION_CORPUS.values()), ids=list(INJECTION_CORPUS))
def test_customer_facing_block_with_hostile_subjects_and_names(payload):
    context, conversation = with_conversation(payload)
    text = customer_prompt(context, conversation=conversation)
    assert_customer_block_is_safe(text)
    assert "Ticket being answered:" in text.split("\n")
    assert_customer_block_is_safe(customer_prompt(context, conversation=conversation, max_chars=200))


def test_harmless_conversation_renders_in_order():
    context, conversation = with_conversation(HARMLESS)
    lines = render_prompt(context, conversation=conversation).split("\n")
    order = [lines.index(h) for h in ("Requester:", "Ticket being answered:", "Recent Activity:", "Support History:", "Open tickets:")]
    assert order == sorted(order)
    assert lines[lines.index("Open tickets:") + 1] == "- #900 “Harmless #0” (open, urgent, 1 h)"
    assert lines[lines.index("Ticket being answered:") + 2] == "- Opened: 2025-11-14 06:30 UTC (3 h ago)"


def test_the_requester_is_dropped_late_and_the_ticket_never():
    context, conversation = with_conversation(HARMLESS)
    full = render_prompt(context, conversation=conversation)
    for budget in range(200, len(full), 97):
        text = render_prompt(context, conversation=conversation, max_chars=budget)
        assert "Ticket being answered:" in text.split("\n")
        if "Requester:" not in text.split("\n"):
            assert "Recent Activity:" not in text.split("\n")  # activity goes before the requester
