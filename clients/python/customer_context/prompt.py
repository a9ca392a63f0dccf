"""Putting the context block into a system prompt."""

from __future__ import annotations


def inject_context_into_prompt(system_prompt: str, block: str | None) -> str:
    """``system_prompt`` followed by a blank line and the ``<customer_context>``
    block; the prompt unchanged when there is no block."""
    if not block:
        return system_prompt
    return f"{system_prompt.rstrip()}\n\n{block.strip()}"
