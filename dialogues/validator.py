"""All checks on a loaded library: graph, templates, Telegram limits, menu and references."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .loader import iter_templates
from .markup import MAX_MESSAGE, html_error, telegram_length
from .model import EXTRA_BY_KIND, Dialogue, Library, Node, Template
from .problems import Problem, error, warning
from .render import ENV, referenced_names, template_context
from .tokens import MAX_BYTES, max_token_bytes

ARTICLES_DIR = Path(__file__).resolve().parents[2] / "shared" / "articles"
"""The coach's articles: `../shared/articles` beside the repository."""

LABEL_MAX = 40
READABLE_MESSAGE = 700
TERMINAL_ACTIONS = ("end", "pause", "handoff", "start")
ROLE_KINDS = {
    "onboarding": "onboarding",
    "checkins": "checkin",
    "reflection": "reflection",
    "exercises": "exercise",
    "modules": "session",
}

# Sample values for rendering every template once: client text with markup and template code in
# it, so a check also proves that what a client types is escaped.
SAMPLE_ANSWER = "Mijn <b>maag</b> & {{ naam }} trekt samen"
SAMPLE_NAME = "Sam"


def check_library(lib: Library, articles_dir: Path | None = None) -> list[Problem]:
    """Every validator check on `lib`; problems sorted by file and line."""
    articles = ARTICLES_DIR if articles_dir is None else articles_dir
    problems: list[Problem] = []
    for dialogue in lib.dialogues.values():
        problems += _check_graph(lib, dialogue)
        problems += _check_templates(dialogue)
        problems += _check_choices(dialogue)
        problems += _check_carry_over(dialogue)
        problems += _check_source(dialogue.source, dialogue.file, dialogue.lines, articles)
    problems += _check_call_cycles(lib)
    problems += _check_menu(lib, articles)
    return sorted(problems, key=lambda p: (p.file, p.line, p.code))


def known_dialogue(lib: Library, dialogue_id: str) -> bool:
    """True when the id names a loaded dialogue or one whose file failed to load."""
    return dialogue_id in lib.dialogues or dialogue_id in lib.broken


def _check_graph(lib: Library, d: Dialogue) -> list[Problem]:
    out: list[Problem] = []
    f = d.file
    if d.start not in d.nodes:
        out.append(
            error(
                "E005",
                f,
                d.lines.get("start", 1),
                f"the start node '{d.start}' does not exist",
                "Write the id of one of the nodes under 'nodes:'",
            )
        )
    for node in d.nodes.values():
        for target, line in node.targets():
            if target not in d.nodes:
                out.append(
                    error(
                        "E005",
                        f,
                        line,
                        f"the node '{node.id}' leads to '{target}', which does not exist",
                        _suggest(target, d.nodes),
                    )
                )
        for ref, key in ((node.call, "call"), (node.dialogue, "dialogue")):
            if ref is not None and not known_dialogue(lib, ref):
                out.append(
                    error(
                        "E006",
                        f,
                        node.lines.get(key, node.line),
                        f"the node '{node.id}' names the dialogue '{ref}', which does not exist",
                        _suggest(ref, lib.dialogues),
                    )
                )
        if node.call is not None and node.call == d.id:
            out.append(
                error("E020", f, node.lines.get("call", node.line), "a dialogue calls itself")
            )
    moved_line = d.lines.get("moved", 1)
    for old, new in d.moved.items():
        if old in d.nodes:
            out.append(
                warning(
                    "W006",
                    f,
                    moved_line,
                    f"moved '{old}' is still a node, so the entry is never used",
                    "Remove it from 'moved'",
                )
            )
        if new not in d.nodes and new not in d.moved:
            out.append(
                error(
                    "E005",
                    f,
                    moved_line,
                    f"moved '{old}' points to '{new}', which does not exist",
                    _suggest(new, d.nodes),
                )
            )
    if d.start not in d.nodes:
        return out
    reachable = _reach([d.start], lambda n: [t for t, _ in d.nodes[n].targets() if t in d.nodes])
    for node in d.nodes.values():
        if node.id not in reachable:
            out.append(
                error(
                    "E008",
                    f,
                    node.line,
                    f"the node '{node.id}' can never be reached",
                    "Point a 'next' or a choice at it, or remove it",
                )
            )
    incoming: dict[str, list[str]] = {n: [] for n in d.nodes}
    for node in d.nodes.values():
        for target, _ in node.targets():
            if target in incoming:
                incoming[target].append(node.id)
    finals = [n.id for n in d.nodes.values() if n.action in TERMINAL_ACTIONS]
    can_finish = _reach(finals, lambda n: incoming[n])
    for node in d.nodes.values():
        if node.id in reachable and node.id not in can_finish:
            out.append(
                error(
                    "E009",
                    f,
                    node.line,
                    f"from the node '{node.id}' the dialogue can never end",
                    "Give it a way to a node with 'action: end' (or handoff)",
                )
            )
    out += _check_silent_loops(d)
    return out


def _check_silent_loops(d: Dialogue) -> list[Problem]:
    """Cycles among nodes that never wait: the client would be stuck in an endless loop."""

    def edges(n: str) -> list[str]:
        node = d.nodes[n]
        if node.waits:
            return []
        return [t for t, _ in node.targets() if t in d.nodes and not d.nodes[t].waits]

    out: list[Problem] = []
    colour: dict[str, int] = {}
    for root in d.nodes:
        if root in colour or d.nodes[root].waits:
            continue
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(edges(root)))]
        colour[root] = 1
        while stack:
            current, children = stack[-1]
            child = next(iter(children), None)
            if child is None:
                colour[current] = 2
                stack.pop()
            elif colour.get(child) == 1:
                path = [n for n, _ in stack]
                loop = path[path.index(child) :] + [child]
                out.append(
                    error(
                        "E020",
                        d.file,
                        d.nodes[child].line,
                        "the nodes " + " -> ".join(loop) + " go round without waiting",
                        "Put a node with choices or a question in the loop",
                    )
                )
            elif child not in colour:
                colour[child] = 1
                stack.append((child, iter(edges(child))))
    return out


def _reach(roots: list[str], edges: Any) -> set[str]:
    seen = set(roots)
    todo = list(roots)
    while todo:
        for nxt in edges(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _suggest(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f"Did you mean '{close[0]}'?" if close else "Check the spelling"


def allowed_names(dialogue: Dialogue) -> set[str]:
    """Top-level names a template of this dialogue may read."""
    names = {"naam", "land", "module", "vars", "answers", "loop"}
    names |= set(EXTRA_BY_KIND.get(dialogue.kind, {}))
    names |= set(ENV.globals)
    return names


def sample_context(dialogue: Dialogue) -> dict[str, Any]:
    """A context with sample values for rendering a dialogue's templates in checks."""
    return template_context(
        naam=SAMPLE_NAME,
        land="nl",
        module="stokt",
        variables=dict(dialogue.variables),
        answers=dict.fromkeys(dialogue.ask_names, SAMPLE_ANSWER),
        extra=dict(EXTRA_BY_KIND.get(dialogue.kind, {})),
    )


def _check_names(
    dialogue: Dialogue, source: str, line: int, expression: bool, where: str
) -> list[Problem]:
    out: list[Problem] = []
    allowed = allowed_names(dialogue)
    try:
        names = referenced_names(source, expression=expression)
    except Exception:  # a syntax error was already reported by the loader
        return out
    for name, attr in names:
        if name == "vars" and attr is not None and attr not in dialogue.variables:
            out.append(
                error(
                    "E010",
                    dialogue.file,
                    line,
                    f"{where} uses vars.{attr}, which is not declared",
                    f"Add '{attr}: \"\"' under 'variables:'",
                )
            )
        elif name == "answers" and attr is not None and attr not in dialogue.ask_names:
            out.append(
                error(
                    "E010",
                    dialogue.file,
                    line,
                    f"{where} uses answers.{attr}, but no node asks '{attr}'",
                    "Use the name of an 'ask:' in this dialogue",
                )
            )
        elif attr is None and name not in allowed:
            extra = ", ".join(sorted(EXTRA_BY_KIND.get(dialogue.kind, {})))
            out.append(
                error(
                    "E010",
                    dialogue.file,
                    line,
                    f"{where} uses '{name}', which templates cannot see",
                    "Use naam, land, module, vars.X or answers.X" + (f", {extra}" if extra else ""),
                )
            )
    return out


def _check_templates(d: Dialogue) -> list[Problem]:
    out: list[Problem] = []
    context = sample_context(d)
    for _node, _message, template in iter_templates(d):
        names = _check_names(d, template.source, template.line, False, "the message")
        out += names
        if names:
            continue
        out += _check_rendered(d, template, context)
    for node in d.nodes.values():
        for item in node.branch:
            if item.condition is None:
                continue
            names = _check_names(d, item.condition, item.line, True, "the condition")
            out += names
            if names or item.test is None:
                continue
            try:
                item.test(**context)
            except Exception as exc:
                out.append(
                    error(
                        "E011",
                        d.file,
                        item.line,
                        f"the condition cannot be worked out: {exc}",
                        "Compare a variable with a value, e.g. vars.rol == 'zoeker'",
                    )
                )
    return out


def render_sample(template: Template, context: dict[str, Any]) -> str:
    """The template rendered with sample values (raises what Jinja2 raises)."""
    return template.render(context)


def _check_rendered(d: Dialogue, template: Template, context: dict[str, Any]) -> list[Problem]:
    try:
        text = render_sample(template, context)
    except Exception as exc:
        return [
            error(
                "E011",
                d.file,
                template.line,
                f"the message does not render: {exc}",
                "Check the {{ }} and {% %} in this message",
            )
        ]
    if not text:
        return [error("E022", d.file, template.line, "the message is empty", "Write some text")]
    problem = html_error(text)
    if problem:
        return [
            error(
                "E017",
                d.file,
                template.line,
                f"the message is not valid Telegram HTML: {problem}",
                "Use only <b>, <i>, <u>, <s> and <a href>, each closed",
            )
        ]
    length = telegram_length(text)
    if length > MAX_MESSAGE:
        return [
            error(
                "E012",
                d.file,
                template.line,
                f"the message has {length} characters; Telegram allows {MAX_MESSAGE}",
                "Split it into several messages",
            )
        ]
    if length > READABLE_MESSAGE:
        return [
            warning(
                "W001",
                d.file,
                template.line,
                f"the message has {length} characters, long on a phone",
                f"Split it into messages of at most {READABLE_MESSAGE} characters",
            )
        ]
    return []


def _check_choices(d: Dialogue) -> list[Problem]:
    out: list[Problem] = []
    for node in d.nodes.values():
        labels: list[tuple[str, int]] = [(c.label, c.line) for c in node.choices]
        if node.skip:
            labels.append((node.skip, node.lines.get("skip", node.line)))
        seen: set[str] = set()
        for label, line in labels:
            if not label:
                out.append(error("E002", d.file, line, "a button has an empty label"))
            if len(label) > LABEL_MAX:
                out.append(
                    error(
                        "E014",
                        d.file,
                        line,
                        f"the button label has {len(label)} characters (at most {LABEL_MAX})",
                        "Shorten the label; put the explanation in the message",
                    )
                )
            if label in seen:
                out.append(
                    error(
                        "E021",
                        d.file,
                        line,
                        f"two buttons are labelled '{label}'",
                        "Give every button of a node its own label",
                    )
                )
            seen.add(label)
        if max_token_bytes(len(labels)) > MAX_BYTES:
            out.append(
                error(
                    "E013",
                    d.file,
                    node.line,
                    f"the node '{node.id}' has so many buttons their data passes {MAX_BYTES} bytes",
                    "Use fewer buttons",
                )
            )
        for choice in node.choices:
            for name in list(choice.set) + list(choice.add):
                if name not in d.variables:
                    out.append(
                        error(
                            "E019",
                            d.file,
                            choice.line,
                            f"the choice sets '{name}', which is not declared",
                            f"Add '{name}' under 'variables:' with its default",
                        )
                    )
            for name in choice.add:
                default = d.variables.get(name, 0)
                if isinstance(default, bool) or not isinstance(default, int | float):
                    out.append(
                        error(
                            "E019",
                            d.file,
                            choice.line,
                            f"the choice adds to '{name}', whose default is not a number",
                            f"Give '{name}' a number as its default, e.g. 0",
                        )
                    )
        if node.waits and not node.say:
            out.append(
                error(
                    "E022",
                    d.file,
                    node.line,
                    f"the node '{node.id}' waits for the client but says nothing",
                    "Add 'say:' with the question",
                )
            )
        if node.keep is not None and node.keep not in d.variables:
            out.append(
                error(
                    "E019",
                    d.file,
                    node.lines.get("keep", node.line),
                    f"keep names '{node.keep}', which is not declared",
                    f"Add '{node.keep}: \"\"' under 'variables:'",
                )
            )
        if node.kind == "ask_var" and node.ask not in d.variables:
            out.append(
                error(
                    "E019",
                    d.file,
                    node.lines.get("ask_var", node.line),
                    f"ask_var keeps '{node.ask}', which is not declared",
                    f"Add '{node.ask}: \"\"' under 'variables:'",
                )
            )
    return out


def _reads(dialogue: Dialogue, node: Node, name: str) -> int | None:
    """The line where `node` reads vars.`name` (a message or a branch condition), or None."""
    for message in node.say:
        for template in message.variants:
            try:
                names = referenced_names(template.source)
            except Exception:  # reported by the loader
                continue
            if ("vars", name) in names:
                return template.line
    for item in node.branch:
        if item.condition is None:
            continue
        try:
            names = referenced_names(item.condition, expression=True)
        except Exception:
            continue
        if ("vars", name) in names:
            return item.line
    return None


def _check_carry_over(d: Dialogue) -> list[Problem]:
    """A score (a variable a choice adds to) read before this run set it: W007.

    Variables live across runs, so such a score would start from the last run's total and a
    self-check would give a verdict on answers the client never gave this time.
    """
    out: list[Problem] = []
    if d.start not in d.nodes:
        return out
    scores = {
        name
        for node in d.nodes.values()
        for choice in node.choices
        for name in choice.add
        if name in d.variables and name not in d.run_variables
    }
    for name in sorted(scores):
        # Walk from the start along every way that has not set the score yet.
        seen = {d.start}
        todo = [d.start]
        while todo:
            node = d.nodes[todo.pop()]
            line = _reads(d, node, name)
            if line is not None:
                out.append(
                    warning(
                        "W007",
                        d.file,
                        line,
                        f"the score '{name}' is read, but still holds its total from an earlier "
                        "run of this dialogue",
                        f"Move '{name}' under 'run_variables:' so each run starts from its default",
                    )
                )
                break
            targets = [c.next for c in node.choices if name not in c.set]
            targets += [b.next for b in node.branch]
            if node.next is not None:
                targets.append(node.next)
            for target in targets:
                if target in d.nodes and target not in seen:
                    seen.add(target)
                    todo.append(target)
    return out


def _check_source(source: str, file: str, lines: Any, articles: Path) -> list[Problem]:
    if source == "none":
        return []
    line = lines.get("source", 1) if hasattr(lines, "get") else int(lines)
    if not articles.is_dir():
        return [
            warning(
                "W002",
                file,
                line,
                f"the articles folder {articles} is not there, so '{source}' is not checked",
            )
        ]
    if not (articles / source).is_file():
        return [
            error(
                "E015",
                file,
                line,
                f"the article '{source}' is not in {articles.name}/",
                _suggest(source, [p.name for p in articles.iterdir()]) + " (or write: none)",
            )
        ]
    return []


def _check_call_cycles(lib: Library) -> list[Problem]:
    calls: dict[str, list[tuple[str, Node]]] = {}
    for d in lib.dialogues.values():
        calls[d.id] = [(n.call, n) for n in d.nodes.values() if n.call and n.call != d.id]
    out: list[Problem] = []
    for d in lib.dialogues.values():
        for callee, node in calls[d.id]:
            reach = _reach([callee], lambda x: [c for c, _ in calls.get(x, [])])
            if d.id in reach:
                out.append(
                    error(
                        "E020",
                        d.file,
                        node.lines.get("call", node.line),
                        f"'{d.id}' calls '{callee}', which calls '{d.id}' again",
                        "A called dialogue must not call back",
                    )
                )
    return out


def _check_menu(lib: Library, articles: Path) -> list[Problem]:
    out: list[Problem] = []
    menu = lib.menu
    used: set[str] = set()
    if lib.has_menu:
        refs: list[tuple[str, str, int]] = []
        for role in ("onboarding", "reflection"):
            value = getattr(menu, role)
            if value:
                refs.append((role, value, menu.lines.get(role, 1)))
        for role in ("checkins", "exercises"):
            refs += [(role, v, menu.lines.get(role, 1)) for v in getattr(menu, role)]
        for module in menu.modules:
            refs += [("modules", v, module.line) for v in module.sessions]
            if not module.sessions:
                out.append(error("E016", menu.file, module.line, f"'{module.id}' has no sessions"))
        for role, dialogue_id, line in refs:
            used.add(dialogue_id)
            dialogue = lib.dialogues.get(dialogue_id)
            if dialogue is None:
                if dialogue_id not in lib.broken:
                    out.append(
                        error(
                            "E016",
                            menu.file,
                            line,
                            f"the menu names the dialogue '{dialogue_id}', which does not exist",
                            "Write the dialogue, or remove it from the menu",
                        )
                    )
            elif dialogue.kind != ROLE_KINDS[role]:
                out.append(
                    warning(
                        "W005",
                        menu.file,
                        line,
                        f"'{dialogue_id}' is listed under {role} but has kind {dialogue.kind}",
                        f"Give it 'kind: {ROLE_KINDS[role]}'",
                    )
                )
        for d in lib.dialogues.values():
            for node in d.nodes.values():
                used |= {x for x in (node.call, node.dialogue) if x}
        for d in lib.dialogues.values():
            if d.id not in used:
                out.append(
                    warning(
                        "W004",
                        d.file,
                        d.line,
                        f"no menu entry or other dialogue leads to '{d.id}'",
                        "Add it to menu.yaml (a deep link still works)",
                    )
                )
    module_ids = {m.id for m in menu.modules}
    for q in lib.reflection_questions:
        if q.module != "any" and lib.has_menu and q.module not in module_ids:
            out.append(
                error(
                    "E016",
                    q.file,
                    q.line,
                    f"the question '{q.id}' names the module '{q.module}', not in the menu",
                    "Use a module id from menu.yaml, or: any",
                )
            )
        if not q.text:
            out.append(error("E022", q.file, q.line, f"the question '{q.id}' has no text"))
        elif html_error(q.text) is None and len(q.text) > READABLE_MESSAGE:
            out.append(warning("W001", q.file, q.line, f"the question '{q.id}' is very long"))
        out += _check_source(q.source, q.file, q.line, articles)
    return out


def dialogue_stats(dialogue: Dialogue) -> dict[str, Any]:
    """Counts for `coachbot check --json`: nodes, messages, longest message, choices, questions."""
    context = sample_context(dialogue)
    longest = 0
    messages = 0
    for node in dialogue.nodes.values():
        messages += len(node.say)
    for _node, _message, template in iter_templates(dialogue):
        try:
            longest = max(longest, telegram_length(render_sample(template, context)))
        except Exception:
            longest = max(longest, len(template.source))
    return {
        "id": dialogue.id,
        "title": dialogue.title,
        "source": dialogue.source,
        "nodes": len(dialogue.nodes),
        "messages": messages,
        "max_message_chars": longest,
        "choices": sum(len(n.choices) for n in dialogue.nodes.values()),
        "free_text_questions": sum(
            1 for n in dialogue.nodes.values() if n.kind in ("ask", "ask_var")
        ),
    }
