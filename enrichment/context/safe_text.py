"""Customer-controlled text made inert inside a prompt block.

Control, format (zero-width, bidi) and separator characters are removed,
newlines and tabs fold into spaces, ``<`` and ``>`` become ``‹`` and ``›`` (so
no input can open or close a tag), and the length is capped. No input can
contain a newline, so no input can start a line of the block.
"""

from __future__ import annotations

import re
import unicodedata

_STRIP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_SPACES = re.compile(r"\s+")


def safe_text(value: object, *, limit: int = 120) -> str:
    """Make customer-controlled text inert inside the prompt block."""
    text = "" if value is None else str(value)
    if len(text) > limit * 4:
        text = text[: limit * 4]
    cleaned = []
    for char in text:
        if char in "\n\r\t\v\f":
            cleaned.append(" ")
            continue
        category = unicodedata.category(char)
        if category in _STRIP_CATEGORIES:
            continue
        if category == "Zs":
            cleaned.append(" ")
            continue
        cleaned.append(char)
    text = "".join(cleaned).replace("<", "‹").replace(">", "›")
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
