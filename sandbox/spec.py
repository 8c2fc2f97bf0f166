"""The official Bot API specification (api.json) turned into cached request validators."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_INT_RE = re.compile(r"-?\d+\Z")


class SpecError(Exception):
    """A request that breaks the specification; the message is Telegram's description."""


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart/form-data request (an InputFile)."""

    filename: str
    content_type: str
    data: bytes


# A checker takes a value and whether it came from a form field (then it is a string that
# still has to be coerced the way Telegram does) and returns the coerced value.
Checker = Callable[[Any, bool, dict[str, UploadedFile]], Any]


@dataclass(frozen=True)
class MethodSpec:
    """The parameters of one Bot API method, ready for validation."""

    name: str
    fields: dict[str, tuple[Checker, bool]]
    required: tuple[str, ...]


def default_spec_path() -> Path:
    """Where api.json lives: $COACHBOT_API_SPEC, else ../shared/telegram-bot-api beside the repo."""
    env = os.environ.get("COACHBOT_API_SPEC")
    if env:
        return Path(env)
    repo_root = Path(__file__).resolve().parent.parent
    return repo_root.parent / "shared" / "telegram-bot-api" / "api.json"


class Spec:
    """Validates Bot API requests against api.json; checkers are built once per method/type."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_spec_path()
        data = json.loads(self.path.read_text(encoding="utf-8"))
        self.version: str = data.get("version", "")
        self._methods_raw: dict[str, dict[str, Any]] = data["methods"]
        self._types_raw: dict[str, dict[str, Any]] = data["types"]
        self._by_lower = {name.lower(): name for name in self._methods_raw}
        self._methods: dict[str, MethodSpec] = {}
        self._checkers: dict[tuple[str, ...], Checker] = {}

    @property
    def reaction_emoji(self) -> frozenset[str]:
        """The standard reaction emoji, as ReactionTypeEmoji.emoji lists them in api.json."""
        for f in self._types_raw.get("ReactionTypeEmoji", {}).get("fields", []):
            if f["name"] == "emoji":
                return frozenset(re.findall(r'"([^"]+)"', f["description"])) - {"emoji"}
        return frozenset()

    def canonical(self, method: str) -> str | None:
        """The spec's spelling of a method name (Telegram ignores case), or None if unknown."""
        return self._by_lower.get(method.lower())

    @property
    def method_names(self) -> list[str]:
        """All method names in the specification."""
        return list(self._methods_raw)

    def method(self, name: str) -> MethodSpec:
        """The cached validation structure of one method."""
        spec = self._methods.get(name)
        if spec is None:
            raw = self._methods_raw[name]
            fields: dict[str, tuple[Checker, bool]] = {}
            for f in raw.get("fields", []):
                fields[f["name"]] = (self.checker(tuple(f["types"])), bool(f["required"]))
            required = tuple(n for n, (_, req) in fields.items() if req)
            spec = MethodSpec(name, fields, required)
            self._methods[name] = spec
        return spec

    def validate(
        self, method: str, params: dict[str, Any], form: bool, files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        """Check and coerce the parameters of a request; raises SpecError like Telegram."""
        spec = self.method(method)
        out: dict[str, Any] = {}
        for name, value in params.items():
            entry = spec.fields.get(name)
            if entry is None:
                raise SpecError(f"Bad Request: unknown parameter {name!r} for method {method}")
            try:
                out[name] = entry[0](value, form, files)
            except SpecError as exc:
                raise SpecError(f"Bad Request: can't parse parameter {name!r}: {exc}") from None
        for name in spec.required:
            if name not in out:
                raise SpecError(f"Bad Request: {name} is empty")
        return out

    def checker(self, types: tuple[str, ...]) -> Checker:
        """A cached checker for a union of spec types, e.g. ('Integer', 'String')."""
        cached = self._checkers.get(types)
        if cached is not None:
            return cached
        if len(types) == 1:
            checker = self._single(types[0])
        else:
            parts = [self.checker((t,)) for t in types]
            label = " or ".join(types)
            field_sets = [self._field_names(t) for t in types]

            def union(value: Any, form: bool, files: dict[str, UploadedFile]) -> Any:
                errors: list[str] = []
                for part in parts:
                    try:
                        return part(value, form, files)
                    except SpecError as exc:
                        errors.append(str(exc))
                value = _json_from_form(value, form) if form else value
                if isinstance(value, dict) and value:
                    # Report the object type the value most resembles: its error says what is
                    # wrong inside, which "expected A or B" would hide.
                    overlap = [len(fields & value.keys()) for fields in field_sets]
                    best = max(range(len(parts)), key=overlap.__getitem__)
                    if overlap[best]:
                        raise SpecError(f"as {types[best]}: {errors[best]}")
                raise SpecError(f"expected {label}, got {_show(value)}")

            checker = union
        self._checkers[types] = checker
        return checker

    def _field_names(self, t: str) -> frozenset[str]:
        raw = self._types_raw.get(t) or {}
        return frozenset(f["name"] for f in raw.get("fields", []))

    def _single(self, t: str) -> Checker:
        if t.startswith("Array of "):
            return self._array(t[len("Array of ") :])
        if t == "Integer":
            return _check_integer
        if t == "Float":
            return _check_float
        if t == "String":
            return _check_string
        if t == "Boolean":
            return _check_boolean
        if t == "InputFile":
            return _check_input_file
        raw = self._types_raw.get(t)
        if raw is None:
            raise KeyError(f"type {t} is not in the specification")
        if raw.get("subtypes"):
            return self._subtypes(t, raw["subtypes"])
        return self._object(t, raw)

    def _array(self, inner_type: str) -> Checker:
        # Resolved lazily: nested types may refer back to themselves.
        holder: list[Checker] = []

        def array(value: Any, form: bool, files: dict[str, UploadedFile]) -> Any:
            value = _json_from_form(value, form)
            if not isinstance(value, list):
                raise SpecError(f"expected Array of {inner_type}, got {_show(value)}")
            if not holder:
                holder.append(self.checker((inner_type,)))
            return [holder[0](item, False, files) for item in value]

        return array

    def _subtypes(self, t: str, subtypes: list[str]) -> Checker:
        holder: list[Checker] = []

        def union(value: Any, form: bool, files: dict[str, UploadedFile]) -> Any:
            value = _json_from_form(value, form)
            if not holder:
                holder.append(self.checker(tuple(subtypes)))
            try:
                return holder[0](value, False, files)
            except SpecError:
                raise SpecError(f"can't parse {t} from {_show(value)}") from None

        return union

    def _object(self, t: str, raw: dict[str, Any]) -> Checker:
        fields_raw = raw.get("fields", [])
        holder: dict[str, tuple[Checker, bool]] = {}
        required = tuple(f["name"] for f in fields_raw if f["required"])

        def obj(value: Any, form: bool, files: dict[str, UploadedFile]) -> Any:
            value = _json_from_form(value, form)
            if not isinstance(value, dict):
                raise SpecError(f"expected {t} object, got {_show(value)}")
            if not holder and fields_raw:
                for f in fields_raw:
                    holder[f["name"]] = (self.checker(tuple(f["types"])), bool(f["required"]))
            out: dict[str, Any] = {}
            for key, item in value.items():
                entry = holder.get(key)
                if entry is None:
                    if not fields_raw:
                        # Types without fields (CallbackGame) are opaque.
                        out[key] = item
                        continue
                    raise SpecError(f"unknown field {key!r} in {t}")
                try:
                    out[key] = entry[0](item, False, files)
                except SpecError as exc:
                    raise SpecError(f"field {key!r} of {t}: {exc}") from None
            for key in required:
                if key not in out:
                    raise SpecError(f"field {key!r} of {t} is required")
            return out

        return obj


def _json_from_form(value: Any, form: bool) -> Any:
    """Form fields carry complex values as JSON strings (python-telegram-bot does this)."""
    if form and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SpecError(f"expected a JSON-serialized value, got {_show(value)}") from None
    return value


def _check_integer(value: Any, form: bool, files: dict[str, UploadedFile]) -> int:
    if form and isinstance(value, str) and _INT_RE.match(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise SpecError(f"expected Integer, got {_show(value)}")


def _check_float(value: Any, form: bool, files: dict[str, UploadedFile]) -> float:
    if form and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise SpecError(f"expected Float, got {_show(value)}")


def _check_string(value: Any, form: bool, files: dict[str, UploadedFile]) -> str:
    if isinstance(value, str):
        return value
    raise SpecError(f"expected String, got {_show(value)}")


def _check_boolean(value: Any, form: bool, files: dict[str, UploadedFile]) -> bool:
    if isinstance(value, bool):
        return value
    if form and isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise SpecError(f"expected Boolean, got {_show(value)}")


def _check_input_file(value: Any, form: bool, files: dict[str, UploadedFile]) -> UploadedFile:
    if isinstance(value, UploadedFile):
        return value
    if isinstance(value, str) and value.startswith("attach://"):
        part = files.get(value[len("attach://") :])
        if part is not None:
            return part
        raise SpecError(f"no multipart part for {value}")
    raise SpecError(f"expected InputFile, got {_show(value)}")


def _show(value: Any) -> str:
    if isinstance(value, UploadedFile):
        return "a file"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
