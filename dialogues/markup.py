"""Telegram's HTML subset: validation, tag stripping and length as Telegram counts it."""

from __future__ import annotations

import html
import re

# Tags Telegram's HTML parse mode accepts (Bot API "HTML style").
ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_ANY_TAG = re.compile(r"<[^<>]*>")

MAX_MESSAGE = 4096


def html_error(text: str) -> str | None:
    """Why `text` is not valid Telegram HTML, or None when it is."""
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            if not m:
                return "a '<' that does not start a tag (write &lt; for a plain '<')"
            closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
            if name not in ALLOWED_TAGS:
                return f"the tag <{name}> is not allowed (use <b>, <i>, <u>, <s>, <a href>)"
            if closing:
                if attrs.strip():
                    return f"the closing tag </{name}> has attributes"
                if not open_tags or open_tags[-1] != name:
                    return f"</{name}> closes a tag that is not open"
                open_tags.pop()
            else:
                open_tags.append(name)
            i = m.end()
        elif ch == ">":
            return "a plain '>' (write &gt;)"
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                return "a plain '&' (write &amp;)"
            i = m.end()
        else:
            i += 1
    if open_tags:
        return f"<{open_tags[-1]}> is never closed"
    return None


def strip_tags(text: str) -> str:
    """The text a client sees: tags removed, entities turned back into characters."""
    return html.unescape(_ANY_TAG.sub("", text))


def telegram_length(text: str) -> int:
    """Length of the visible text in UTF-16 code units, the way Telegram counts its limits."""
    return len(strip_tags(text).encode("utf-16-le")) // 2


def fit_message(text: str) -> str:
    """`text` unchanged when it fits Telegram's limit, else its plain text cut to fit."""
    if telegram_length(text) <= MAX_MESSAGE:
        return text
    plain = strip_tags(text)
    # Cut on code points, leaving room for surrogate pairs and the ellipsis.
    while len(plain.encode("utf-16-le")) // 2 > MAX_MESSAGE - 1:
        plain = plain[: len(plain) - max(1, (len(plain.encode("utf-16-le")) // 2) - MAX_MESSAGE)]
    return html.escape(plain.rstrip(), quote=False) + "…"
