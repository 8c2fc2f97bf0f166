"""Jinja2 rendering of messages and branch conditions, sandboxed, strict and HTML-escaped."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .markup import fit_message
from .model import Message, Value

ANSWER_MAX = 1500
"""Longest client answer shown back in a message; longer text is cut, so messages stay small."""

VAR_TEXT_MAX = 64
"""Longest free text kept as a variable (`ask_var`) or used as the client's name."""

KEEP_MAX = 240
"""Longest answer an `ask` keeps as a variable (`keep:`), for a later session to show back."""

SHORT_DEFAULT = 120
"""How long the `kort` filter lets a client's words be when a message quotes them."""

BASE_NAMES = frozenset({"naam", "land", "module", "vars", "answers"})
"""Names every template sees; `ctx.extra` adds a few per dialogue kind."""

# One environment for the whole process: immutable sandbox (a template cannot even change a
# list), StrictUndefined (a typo is an error, never an empty hole), autoescape (client text can
# never become markup).
ENV = ImmutableSandboxedEnvironment(
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
)


def short(text: Any, limit: int = SHORT_DEFAULT) -> str:
    """The `kort` filter: a client's words on one line, cut at a word when longer than `limit`.

    For quoting an answer back inside a sentence ("Je schreef: ‘…’"); the result is still
    escaped by autoescape like any other value.
    """
    words = " ".join(str(text).split())
    if len(words) <= limit:
        return words
    cut_at = words.rfind(" ", 0, limit)
    if cut_at < limit // 2:
        cut_at = limit - 1
    return words[:cut_at].rstrip(" ,.;:") + "…"


ENV.filters["kort"] = short


_JINJA_SYNTAX = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")


def is_plain(source: str) -> bool:
    """True when `source` has no Jinja2 syntax at all, so it renders to itself."""
    return _JINJA_SYNTAX.search(source) is None and "\r" not in source


@functools.lru_cache(maxsize=4096)
def compile_template(source: str) -> jinja2.Template | None:
    """Compile a message template (None for plain text); raises TemplateSyntaxError on a bad one.

    Cached by source: a template object is immutable, and "Hoi {{ naam }}" recurs in many files.
    """
    if is_plain(source):
        return None
    return ENV.from_string(source)


@functools.lru_cache(maxsize=1024)
def compile_condition(source: str) -> Callable[..., Any]:
    """Compile a branch `if` expression once; raises jinja2.TemplateSyntaxError on a bad one."""
    return ENV.compile_expression(source, undefined_to_none=False)


def cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters long, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def template_context(
    *,
    naam: str,
    land: str,
    module: str,
    variables: Mapping[str, Value],
    answers: Mapping[str, str],
    extra: Mapping[str, str],
) -> dict[str, Any]:
    """The whole world a template sees: the client's name, land, module, vars, answers, extra."""
    context: dict[str, Any] = dict(extra)
    context.update(
        naam=cut(naam, VAR_TEXT_MAX),
        land=land,
        module=module,
        vars=dict(variables),
        answers={k: cut(v, ANSWER_MAX) for k, v in answers.items()},
    )
    return context


def render_message(message: Message, context: Mapping[str, Any], rng: random.Random) -> str:
    """Render one message (picking a variant with `rng`), stripped and cut to Telegram's limit."""
    variants = message.variants
    template = variants[0] if len(variants) == 1 else rng.choice(variants)
    return fit_message(template.render(context))


def referenced_names(source: str, *, expression: bool = False) -> list[tuple[str, str | None]]:
    """(name, attribute) pairs a template or expression reads, e.g. ('vars', 'rol'), ('naam', None).

    Only names the template does not define itself are listed; an attribute is given for
    `vars.x`, `answers.x`, `vars['x']` and `answers['x']`.
    """
    ast = ENV.parse("{{ " + source + " }}" if expression else source)
    assigned: set[str] = set()
    for statement in ast.find_all((nodes.Assign, nodes.For, nodes.Macro, nodes.With)):
        for name in statement.find_all(nodes.Name):
            if name.ctx in ("store", "param"):
                assigned.add(name.name)
    found: list[tuple[str, str | None]] = []
    seen_names: set[int] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        target = node.node
        if isinstance(target, nodes.Name) and target.name in ("vars", "answers"):
            key: str | None = None
            if isinstance(node, nodes.Getattr):
                key = node.attr
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                key = node.arg.value
            if key is not None:
                found.append((target.name, key))
                seen_names.add(id(target))
    for name in ast.find_all(nodes.Name):
        if name.ctx == "load" and id(name) not in seen_names and name.name not in assigned:
            found.append((name.name, None))
    return found
