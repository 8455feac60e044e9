"""Load journey files: YAML -> validated `Journey`, with every problem reported at its line and column.

The YAML is composed (not loaded) so each value keeps its position. Plain Python data is built from
the node tree together with a map from location paths (the same tuples pydantic uses in an error's
`loc`) to positions; pydantic's errors and `cross_reference_errors` are then translated into
`JourneyError`s that say which line of which file is wrong and what was expected.

Scalars follow YAML 1.2 rather than PyYAML's YAML 1.1 where the two differ in ways that bite journey
authors: `yes`/`no`/`on`/`off` stay text (only `true`/`false` are booleans), `9:30` stays text
(not the sexagesimal integer 570) and dates stay text. Duplicate keys, custom tags, merge keys,
recursive aliases and alias bombs are reported instead of being silently accepted.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from yaml.constructor import SafeConstructor
from yaml.reader import ReaderError

from journeys.definition import _ID, Journey, cross_reference_errors
from journeys.placeholders import problems as placeholder_problems
from journeys.schema import journey_json_schema
from journeys.text import has_control

__all__ = [
    "JourneyError",
    "JourneyFileError",
    "default_library_path",
    "journey_json_schema",
    "load_journey_file",
    "load_journey_text",
    "load_library",
]

Loc = tuple[str | int, ...]
Pos = tuple[int, int]  # (line, column), both 1-based

# Far more nodes than any real journey has; stops "billion laughs" alias expansion early.
MAX_NODES = 100_000
MAX_DEPTH = 64

_YAML_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_YAML_TAG + t for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ, _TIMESTAMP, _MERGE = (_YAML_TAG + t for t in ("map", "seq", "timestamp", "merge"))
_SCALAR_TAGS = {_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP}



@dataclass(frozen=True)
class JourneyError:
    """One problem in one journey file."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    key: str  # dotted path of the offending key, e.g. "steps[3].when"; "" for the whole document
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class JourneyFileError(Exception):
    """Raised with every problem found (in one file, or in every file of a library)."""

    def __init__(self, errors: list[JourneyError]) -> None:
        self.errors = sorted(errors, key=_sort_key)
        super().__init__("\n".join(str(e) for e in self.errors))


def _sort_key(e: JourneyError) -> tuple[str, int, int, str, str]:
    return (e.file, e.line, e.column, e.key, e.message)


# --------------------------------------------------------------------------------------- YAML


@dataclass(frozen=True)
class _Where:
    key: Pos  # the key node (mapping entry), the item (sequence entry) or the document start
    value: Pos  # the value node
    scalar: bool  # the value is a non-empty scalar, so `value` is the best place for value errors


class _Abort(Exception):
    """The document cannot be turned into data at all (alias bomb, nesting too deep)."""


class _Builder:
    """Turns a composed node tree into plain data plus a position map, collecting YAML problems."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.errors: list[JourneyError] = []
        self.where: dict[Loc, _Where] = {}
        self._constructor = SafeConstructor()
        self._nodes = 0
        self._open: set[int] = set()

    def error(self, pos: Pos, loc: Loc, message: str) -> None:
        self.errors.append(JourneyError(self.filename, pos[0], pos[1], dotted(loc), message))

    def build(self, node: yaml.Node, loc: Loc, key_pos: Pos) -> Any:
        pos = _mark(node.start_mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            self.error(
                pos, (), f"the document expands to more than {MAX_NODES} values (YAML alias bomb?)"
            )
            raise _Abort
        if len(loc) > MAX_DEPTH:
            self.error(pos, (), f"the document nests deeper than {MAX_DEPTH} levels")
            raise _Abort
        if id(node) in self._open:
            self.error(
                key_pos, loc, "a YAML alias refers to a value that contains it (recursive alias)"
            )
            self.where[loc] = _Where(key_pos, pos, False)
            return None
        if isinstance(node, yaml.ScalarNode):
            empty = node.tag == _NULL and node.value == ""
            self.where[loc] = _Where(key_pos, key_pos if empty else pos, not empty)
            return self._scalar(node, loc, pos)
        self.where[loc] = _Where(key_pos, pos, False)
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ:
                    self.error(pos, loc, _tag_message(node.tag))
                return [
                    self.build(item, (*loc, i), _mark(item.start_mark))
                    for i, item in enumerate(node.value)
                ]
            assert isinstance(node, yaml.MappingNode)
            if node.tag != _MAP:
                self.error(pos, loc, _tag_message(node.tag))
            return self._mapping(node, loc)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        data: dict[str, Any] = {}
        first_seen: dict[str, Pos] = {}
        for key_node, value_node in node.value:
            kpos = _mark(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(kpos, loc, "a key must be plain text, not a list or mapping")
                continue
            key = str(key_node.value)
            if key_node.tag == _MERGE:
                self.error(
                    kpos,
                    (*loc, key),
                    "YAML merge keys ('<<') are not supported: write the keys out",
                )
                continue
            if key_node.tag not in _SCALAR_TAGS:
                self.error(kpos, (*loc, key), _tag_message(key_node.tag))
            if key in first_seen:
                self.error(
                    kpos,
                    (*loc, key),
                    f"duplicate key {key!r} (first given at line {first_seen[key][0]})",
                )
                continue
            first_seen[key] = kpos
            data[key] = self.build(value_node, (*loc, key), kpos)
        return data

    def _scalar(self, node: yaml.ScalarNode, loc: Loc, pos: Pos) -> Any:
        text = str(node.value)
        tag = node.tag
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return text.lower() == "true" if text.lower() in ("true", "false") else text
        if tag in (_INT, _FLOAT) and ":" not in text:
            try:
                if tag == _INT:
                    return self._constructor.construct_yaml_int(node)
                return self._constructor.construct_yaml_float(node)
            except (ValueError, yaml.YAMLError):  # e.g. `!!int abc`
                self.error(pos, loc, f"{text!r} is not a valid {tag.removeprefix(_YAML_TAG)}")
                return text
        if tag not in _SCALAR_TAGS:
            self.error(pos, loc, _tag_message(tag))
        bad = next((c for c in text if has_control(c)), None)
        if bad is not None:  # written as an escape ("\x07", "\u202e") in a quoted scalar: the reader passed it
            self.error(pos, loc, f"control or bidi character {_char(bad)} in this text (an escape in quotes): "
                                 "journey text is shown to people exactly as written, so remove it")
        return text


def _tag_message(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag
    return f"YAML tags are not supported here ({shown}): write plain values"


def _char(character: int | str | bytes) -> str:
    code = (
        character if isinstance(character, int) else (ord(character) if len(character) == 1 else -1)
    )
    return f"U+{code:04X}" if code >= 0 else repr(character)


def _mark(mark: yaml.Mark | None) -> Pos:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[Pos, str]:
    if isinstance(exc, yaml.MarkedYAMLError):
        message = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
        if exc.context and exc.problem and exc.context_mark is not None:
            line, column = _mark(exc.context_mark)
            message += f" ({exc.context} at line {line}, column {column})"
        return _mark(exc.problem_mark or exc.context_mark), message
    if isinstance(exc, ReaderError):
        message = f"YAML syntax error: {exc.reason} (character {_char(exc.character)})"
        return _offset_pos(text, exc.position), message
    return (1, 1), f"YAML error: {exc}"


def _offset_pos(text: str | bytes, offset: int) -> Pos:
    nl: Any = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(nl, 0, offset) + 1
    return line, offset - (text.rfind(nl, 0, offset) + 1) + 1


@dataclass
class _Parsed:
    data: Any
    where: dict[Loc, _Where]
    errors: list[JourneyError]


def _parse(text: str, filename: str) -> _Parsed:
    builder = _Builder(filename)
    loader: yaml.SafeLoader | None = None
    try:
        # the reader checks every character as it is built: a control character raises here
        loader = yaml.SafeLoader(text)
        root = loader.get_node() if loader.check_node() else None
        if root is not None and loader.check_node():  # the next event starts a second document
            second = _mark(loader.current_event.start_mark)
            builder.error(
                second, (), "a journey file holds one YAML document: remove the second '---'"
            )
    except yaml.YAMLError as exc:
        pos, message = _yaml_problem(exc, text)
        builder.error(pos, (), message)
        return _Parsed(None, builder.where, builder.errors)
    except RecursionError:
        builder.error((1, 1), (), "the document nests too deeply")
        return _Parsed(None, builder.where, builder.errors)
    finally:
        if loader is not None:
            loader.dispose()

    if root is None or (
        isinstance(root, yaml.ScalarNode) and root.tag == _NULL and root.value in ("", "~", "null")
    ):
        builder.error(
            (1, 1),
            (),
            "the file is empty: expected a journey (id, title, version, ppp, steps, ...)",
        )
        return _Parsed(None, builder.where, builder.errors)
    if not isinstance(root, yaml.MappingNode):
        got = "a list" if isinstance(root, yaml.SequenceNode) else f"the text {root.value!r}"
        builder.error(
            _mark(root.start_mark),
            (),
            f"a journey file must be a mapping of keys (id: ..., title: ...), got {got}",
        )
        return _Parsed(None, builder.where, builder.errors)
    start = _mark(root.start_mark)
    try:
        data = builder.build(root, (), start)
    except _Abort:
        return _Parsed(None, builder.where, builder.errors)
    return _Parsed(data, builder.where, builder.errors)


# ------------------------------------------------------------------------- locations and models


def dotted(loc: Loc) -> str:
    """('steps', 3, 'when') -> 'steps[3].when' (indexes are 0-based, like the loc tuples)."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _unwrap(tp: Any) -> tuple[Any, str | None]:
    """Strip Annotated[...] and Optional[...]; return the type and the union discriminator, if any."""
    discriminator: str | None = None
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            args = get_args(tp)
            for meta in args[1:]:
                if isinstance(meta, FieldInfo) and isinstance(meta.discriminator, str):
                    discriminator = meta.discriminator
            tp = args[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp, discriminator
            tp = members[0]
        else:
            return tp, discriminator


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field(model: type[BaseModel], key: str | int) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _tag_member(union: Any, discriminator: str | None, tag: str | int) -> type[BaseModel] | None:
    for member in get_args(union):
        if not _is_model(member):
            continue
        for name, info in member.model_fields.items():
            if discriminator is not None and name != discriminator:
                continue
            if get_origin(info.annotation) is Literal and tag in get_args(info.annotation):
                return typing.cast(type[BaseModel], member)
    return None


def _resolve(loc: Loc, known: dict[Loc, _Where]) -> tuple[Loc, type[BaseModel] | None]:
    """Map a pydantic loc to a data path (dropping tagged-union tags); also the model found there."""
    tp: Any = Journey
    out: list[str | int] = []
    for i, part in enumerate(loc):
        tp, discriminator = _unwrap(tp)
        if get_origin(tp) in (Union, types.UnionType):
            member = _tag_member(tp, discriminator, part)
            if member is not None:  # pydantic's tag of a discriminated union: not in the data
                tp = member
                continue
        if _is_model(tp):
            info = _field(tp, part)
            tp = info.annotation if info is not None else None
        elif get_origin(tp) is list and isinstance(part, int):
            tp = get_args(tp)[0]
        elif tp is not None:
            tp = None
        if tp is None:
            out.extend(_strip_tags((*out, part), loc[i + 1 :], known)[len(out) :])
            return tuple(out), None
        out.append(part)
    tp, _ = _unwrap(tp)
    return tuple(out), (tp if _is_model(tp) else None)


def _strip_tags(prefix: Loc, rest: Loc, known: dict[Loc, _Where]) -> Loc:
    """Fallback when the model walk fails: drop step-kind names that are not keys of the data."""
    out = list(prefix)
    for part in rest:
        if part in STEP_KINDS and (*out, part) not in known:
            continue
        out.append(part)
    return tuple(out)


def _step_kinds() -> tuple[str, ...]:
    steps = Journey.model_fields["steps"].annotation
    union, _ = _unwrap(get_args(steps)[0])
    kinds: list[str] = []
    for member in get_args(union):
        kinds.extend(str(k) for k in get_args(member.model_fields["kind"].annotation))
    return tuple(kinds)


STEP_KINDS: tuple[str, ...] = _step_kinds()


def _keys_of(model: type[BaseModel]) -> list[str]:
    return sorted(info.alias or name for name, info in model.model_fields.items())


def _model_phrase(model: type[BaseModel] | None) -> str:
    if model is not None and "kind" in model.model_fields:
        kinds = get_args(model.model_fields["kind"].annotation)
        if len(kinds) == 1:
            return f" for kind {kinds[0]!r}"
    return ""


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _got(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


_PATTERNS = {
    _ID: "an id: lowercase letters, digits, '-' and '_', starting with a letter or digit",
    r"^https?://\S+$": "an http:// or https:// URL without spaces",
    r"^[A-Z]{2}$": "a two-letter country code in capitals, e.g. 'GB'",
}


def _value_message(err: ErrorDetails) -> str:
    """A pydantic error about a value, in the words of someone editing a YAML file."""
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    got = _got(err.get("input"))
    if kind == "literal_error":
        return f"expected {ctx.get('expected', '?')}, got {got}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or err["msg"])
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys (key: value), got {got}"
    if kind == "list_type":
        return f"expected a list ('- item' lines or [a, b]), got {got}"
    if kind == "string_type":
        return f"expected text, got {got}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return f"expected {_PATTERNS.get(pattern, f'text matching {pattern}')}, got {got}"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "too_short":
        n = ctx.get("min_length")
        return f"needs at least {n} item{'s' if n != 1 else ''}, got {ctx.get('actual_length')}"
    msg = str(err["msg"])
    return f"{msg[:1].lower()}{msg[1:]}, got {got}"


# ------------------------------------------------------------------------------------ checking


class _Reporter:
    def __init__(self, filename: str, where: dict[Loc, _Where]) -> None:
        self.filename = filename
        self.where = where

    def position(self, loc: Loc, *, value: bool) -> Pos:
        """The value (or key) at `loc`, else the nearest ancestor's key that exists in the file."""
        for n in range(len(loc), -1, -1):
            found = self.where.get(loc[:n])
            if found is not None:
                return found.value if (value and n == len(loc) and found.scalar) else found.key
        return (1, 1)

    def at(self, loc: Loc, message: str, *, value: bool = True) -> JourneyError:
        line, column = self.position(loc, value=value)
        return JourneyError(self.filename, line, column, dotted(loc), message)

    def pydantic(self, err: ErrorDetails) -> JourneyError:
        loc: Loc = tuple(err["loc"])
        kind: str = err["type"]
        if kind == "extra_forbidden" and loc:
            parent, model = _resolve(loc[:-1], self.where)
            name = str(loc[-1])
            message = f"unknown key {name!r}{_model_phrase(model)}"
            if model is not None:
                allowed = _keys_of(model)
                message += f" (expected one of: {', '.join(allowed)}){_did_you_mean(name, allowed)}"
            return self.at((*parent, loc[-1]), message, value=False)
        if kind == "missing" and loc:
            parent, model = _resolve(loc[:-1], self.where)
            return self.at(
                parent, f"missing required key {loc[-1]!r}{_model_phrase(model)}", value=False
            )
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            data_loc, _ = _resolve(loc, self.where)
            disc = str((err.get("ctx") or {}).get("discriminator", "'kind'")).strip("'")
            kinds = list(STEP_KINDS) if disc == "kind" else []
            expected = f" (expected one of: {', '.join(kinds)})" if kinds else ""
            what = "step kind" if disc == "kind" else disc
            if kind == "union_tag_not_found":
                return self.at(data_loc, f"missing required key {disc!r}{expected}", value=False)
            raw = err["input"].get(disc) if isinstance(err.get("input"), dict) else None
            tag = str(raw) if raw is not None else str((err.get("ctx") or {}).get("tag", ""))
            message = f"unknown {what} {tag!r}{expected}{_did_you_mean(tag, kinds)}"
            return self.at((*data_loc, disc), message)
        data_loc, _ = _resolve(loc, self.where)
        return self.at(data_loc, _value_message(err))


def _check(text: str, filename: str) -> tuple[Journey | None, list[JourneyError], _Reporter]:
    parsed = _parse(text, filename)
    reporter = _Reporter(filename, parsed.where)
    errors = list(parsed.errors)
    if parsed.data is None:
        return None, errors, reporter
    try:
        journey = Journey.model_validate(parsed.data)
    except ValidationError as exc:
        errors.extend(reporter.pydantic(e) for e in exc.errors(include_url=False))
        return None, _unique(errors), reporter
    errors.extend(reporter.at(loc, message) for loc, message in cross_reference_errors(journey))
    errors.extend(_placeholder_errors(journey, text, reporter))
    return (journey if not errors else None), _unique(errors), reporter


def _placeholder_errors(journey: Journey, text: str, reporter: _Reporter) -> list[JourneyError]:
    """`file:line:col: unknown placeholder {nmae}; did you mean {name}?`, at the placeholder itself."""
    errors: list[JourneyError] = []
    lines = text.splitlines(keepends=True)
    for loc, word, message in placeholder_problems(journey):
        line, column = reporter.position(loc, value=True)
        offset = sum(len(x) for x in lines[:line - 1]) + column - 1
        found = text.find(word, max(offset, 0))
        if found >= 0:
            line, column = _offset_pos(text, found)
        errors.append(JourneyError(reporter.filename, line, column, "", message))
    return errors


def _unique(errors: list[JourneyError]) -> list[JourneyError]:
    return sorted(set(errors), key=_sort_key)


# ------------------------------------------------------------------------------------ public API


def load_journey_text(text: str, filename: str) -> Journey:
    """Parse and validate one journey; raise `JourneyFileError` listing every problem in it."""
    journey, errors, _ = _check(text, filename)
    if errors or journey is None:
        raise JourneyFileError(errors)
    return journey


def _read(path: Path) -> tuple[str | None, list[JourneyError]]:
    raw = path.read_bytes()  # OSError (missing file, permissions) propagates
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line, column = _offset_pos(raw, exc.start)
        return None, [
            JourneyError(
                str(path), line, column, "", f"the file is not valid UTF-8 text ({exc.reason})"
            )
        ]


def load_journey_file(path: str | Path) -> Journey:
    """Load one journey file. A missing or unreadable file raises the usual `OSError`."""
    path = Path(path)
    text, errors = _read(path)
    if text is None:
        raise JourneyFileError(errors)
    return load_journey_text(text, str(path))


def load_library(folder: str | Path) -> dict[str, Journey]:
    """Load every *.yml / *.yaml file of a folder (not its subfolders), keyed by journey id.

    Raises `JourneyFileError` with the problems of all files together; two files declaring the
    same journey id is one of them (reported at the later file's `id:`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"journey library {str(folder)!r} is not a folder")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.suffix in (".yml", ".yaml") and p.is_file() and not p.name.startswith(".")
    )
    journeys: dict[str, Journey] = {}
    source: dict[str, Path] = {}
    errors: list[JourneyError] = []
    for path in files:
        text, read_errors = _read(path)
        if text is None:
            errors.extend(read_errors)
            continue
        journey, file_errors, reporter = _check(text, str(path))
        errors.extend(file_errors)
        if journey is None:
            continue
        if journey.id in journeys:
            errors.append(
                reporter.at(
                    ("id",), f"duplicate journey id {journey.id!r} (also in {source[journey.id]})"
                )
            )
            continue
        journeys[journey.id] = journey
        source[journey.id] = path
    if errors:
        raise JourneyFileError(errors)
    return journeys


def default_library_path() -> Path:
    """The journeys bundled with the package (`journeys/library`)."""
    return Path(__file__).resolve().parent / "library"


