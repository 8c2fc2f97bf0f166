"""Telegram's HTML parse mode: text plus MessageEntity list, or Telegram's parse error."""

from __future__ import annotations

import re
from typing import Any

_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_RE = re.compile(r"\s*([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# Tag -> entity type; span, a, pre, code, blockquote and tg-emoji get extra handling.
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
SUPPORTED_TAGS = frozenset([*_SIMPLE, "span", "a", "code", "pre", "blockquote", "tg-emoji"])


class HtmlError(Exception):
    """Telegram's "can't parse entities" reason."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of MessageEntity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into plain text and entities; raises HtmlError like Telegram."""
    out: list[str] = []
    pos16 = 0  # UTF-16 offset of the plain text produced so far
    # Open tags: (name, attributes, start offset in UTF-16, byte offset of the tag)
    stack: list[tuple[str, dict[str, str], int, int]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "&":
            m = _ENTITY_RE.match(source, i)
            if m is None:
                raise HtmlError(f"Unsupported HTML entity at byte offset {_byte_offset(source, i)}")
            decoded = _decode_entity(m.group(1), source, i)
            out.append(decoded)
            pos16 += utf16_len(decoded)
            i = m.end()
            continue
        if ch != "<":
            out.append(ch)
            pos16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        tag_start = i
        closing = source.startswith("</", i)
        if not closing:
            m = _TAG_NAME_RE.match(source, i + 1)
            name = m.group(0).lower() if m else ""
            if name not in SUPPORTED_TAGS:
                raise HtmlError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, i)}'
                )
        end = source.find(">", i)
        if end < 0:
            raise HtmlError(f"Can't find end of the tag at byte offset {_byte_offset(source, i)}")
        if closing:
            name = source[i + 2 : end].strip().lower()
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {_byte_offset(source, i)}")
            open_name, attrs, start16, _ = stack.pop()
            if name != open_name:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {_byte_offset(source, i)}, expected "</'
                    f'{open_name}>", found "</{name}>"'
                )
            _close(open_name, attrs, start16, pos16, entities, stack)
            i = end + 1
            continue
        assert m is not None
        attrs = _parse_attributes(source[m.end() : end], name, source, tag_start)
        stack.append((name, attrs, pos16, _byte_offset(source, tag_start)))
        i = end + 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _decode_entity(body: str, source: str, i: int) -> str:
    if body.startswith("#"):
        code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise HtmlError(f"Unsupported HTML entity at byte offset {_byte_offset(source, i)}")
        return chr(code)
    return _NAMED[body]


def _parse_attributes(text: str, tag: str, source: str, tag_start: int) -> dict[str, str]:
    attrs: dict[str, str] = {}
    rest = text.rstrip()
    pos = 0
    while pos < len(rest):
        m = _ATTR_RE.match(rest, pos)
        if m is None or m.end() == pos:
            raise HtmlError(
                f'Can\'t parse attributes of the tag "{tag}" at byte offset '
                f"{_byte_offset(source, tag_start)}"
            )
        value = m.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        attrs[m.group(1).lower()] = _unescape_attribute(value)
        pos = m.end()
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError('Tag "span" must have class "tg-spoiler"')
    if tag == "tg-emoji" and not attrs.get("emoji-id"):
        raise HtmlError('Tag "tg-emoji" must have attribute "emoji-id"')
    return attrs


def _unescape_attribute(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith("#"):
            return chr(int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:]))
        return _NAMED[body]

    return _ENTITY_RE.sub(repl, value)


def _close(
    name: str,
    attrs: dict[str, str],
    start16: int,
    end16: int,
    entities: list[dict[str, Any]],
    stack: list[tuple[str, dict[str, str], int, int]],
) -> None:
    length = end16 - start16
    if name == "code" and stack and stack[-1][0] == "pre":
        lang = attrs.get("class", "")
        if lang.startswith("language-"):
            # <pre><code class="language-x"> is one pre entity with a language.
            stack[-1][1]["language"] = lang[len("language-") :]
            return
    if length <= 0:
        return  # Telegram drops empty entities
    entity: dict[str, Any] = {"offset": start16, "length": length}
    if name in _SIMPLE:
        entity["type"] = _SIMPLE[name]
    elif name == "span":
        entity["type"] = "spoiler"
    elif name == "a":
        href = attrs.get("href", "")
        if not href:
            return
        m = re.match(r"tg://user\?id=(\d+)\Z", href)
        if m:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(m.group(1)), "is_bot": False, "first_name": "User"}
        else:
            entity["type"] = "text_link"
            entity["url"] = href
    elif name == "code":
        entity["type"] = "code"
    elif name == "pre":
        entity["type"] = "pre"
        if attrs.get("language"):
            entity["language"] = attrs["language"]
    elif name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
    elif name == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = attrs["emoji-id"]
    entities.append(entity)


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace as Telegram does, keeping entities aligned and non-empty."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    out = []
    for e in entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, limit)
        if end > start:
            out.append({**e, "offset": start, "length": end - start})
    return stripped, out


# A /command as Telegram finds it in a message text (optionally /command@botname).
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
# Telegram finds no command inside these.
_NO_COMMANDS_IN = frozenset({"code", "pre", "url", "text_link", "email", "bot_command"})


def _edge(ch: str) -> bool:
    """Whether a character next to a slash word makes it no command ("a/b", "</u>", "/x/")."""
    return ch.isalnum() or ch in "_/<>"


def add_bot_commands(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entities plus a bot_command entity for every /command in the text, as Telegram adds
    them to a message it delivers: so a client can tap /hulp in the bot's text."""
    blocked = [
        (e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _NO_COMMANDS_IN
    ]
    found: list[dict[str, Any]] = []
    for match in _COMMAND_RE.finditer(text):
        start, end = match.span()
        if (start > 0 and _edge(text[start - 1])) or (end < len(text) and _edge(text[end])):
            continue
        offset, length = utf16_len(text[:start]), utf16_len(match.group(0))
        if any(lo < offset + length and offset < hi for lo, hi in blocked):
            continue
        found.append({"offset": offset, "length": length, "type": "bot_command"})
    if not found:
        return entities
    return sorted([*entities, *found], key=lambda e: (e["offset"], -e["length"]))
