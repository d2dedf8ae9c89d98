"""The one YAML seam: safe loading that remembers where every value came from.

Every YAML file capctl reads (topology, prices, mandates, calendar events, queries, rates, operator
settings) goes through here. Policy files are edited by people, so an error must name the file, the
line and the field. PyYAML's composer gives node positions; we build plain Python values from the nodes
ourselves (safe types only: maps, lists, str, int, float, bool, null, dates) and keep a map from field
path to line number. Positions are 1-based (line, column) of the key for a mapping entry and of the
item for a list entry.

Fail-safe rules: regular files only, read with a bound (capacity/common/files.py); at most
MAX_FILE_BYTES and MAX_DEPTH levels of nesting; no aliases, merges or tags; YAML 1.2 numbers (`010` is
10; `0x10`, `0o17`, `1_000`, `1:30`, `.inf`, `.nan` are refused with their line rather than read
as YAML 1.1 would, silently). Messages never quote the file's content: a file that is not a policy
(a private file behind a symlink...) gets its position only. Every error carries a `code` (`too_large`,
`too_deep`, `not_regular`, `not_utf8`, `unreadable`, `not_found`, `syntax`, `alias`, `merge`,
`key_type`, `duplicate_key`, `bad_value`, `ambiguous_number`) so that callers can word it in French.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from capacity.common.errors import ConfigError
from capacity.common.files import read_bounded

MAX_FILE_BYTES = 1_000_000
PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML document with the line (1-based) of each field path."""

    path: str
    data: Any
    lines: Mapping[PathKey, int] = field(default_factory=dict)
    columns: Mapping[PathKey, int] = field(default_factory=dict)
    text: str = ""

    def _known(self, key: PathKey) -> PathKey | None:
        probe = tuple(key)
        while probe:
            if probe in self.lines:
                return probe
            probe = probe[:-1]
        return () if () in self.lines else None

    def line_of(self, key: PathKey) -> int | None:
        """Line of the field at `key`, or of its closest parent that has one."""
        known = self._known(key)
        return None if known is None else self.lines[known]

    def position(self, key: PathKey) -> tuple[int | None, int | None]:
        """(line, column) of the field at `key`, or of its closest parent that has one."""
        known = self._known(key)
        if known is None:
            return None, None
        return self.lines[known], self.columns.get(known)

    def error(self, key: PathKey, message: str) -> ConfigError:
        """A ConfigError pointing at `key` in this file."""
        dotted = ".".join(str(k) for k in key)
        prefix = f"{dotted}: " if dotted else ""
        line, column = self.position(key)
        return ConfigError(prefix + message, path=self.path, line=line, column=column)


def load_yaml_text(text: str, path: str) -> YamlDoc:
    """Parse one YAML document from `text`; `path` is only used in messages."""
    node = compose_text(text, path)
    lines: dict[PathKey, int] = {}
    columns: dict[PathKey, int] = {}
    if node is None:
        return YamlDoc(path=path, data=None, lines=lines, columns=columns, text=text)
    data = _Builder(path, lines, columns).build(node, ())
    return YamlDoc(path=path, data=data, lines=lines, columns=columns, text=text)


def compose_text(text: str, path: str) -> yaml.Node | None:
    """The node tree of one YAML document (YAML 1.2 numbers), after the size, depth and alias checks.

    For readers that walk nodes themselves (calendar event files); take values with `scalar_value`.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise ConfigError(
            f"file larger than {MAX_FILE_BYTES} bytes; is it the right file?", path=path, code="too_large"
        )
    try:
        _check_events(text, path)
        return _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise ConfigError(f"invalid YAML: {exc.problem}", path=path, line=line, column=column, code="syntax") from None
    except yaml.reader.ReaderError as exc:  # a control character: position is a character index
        at = int(exc.position)
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
        problem = f"special character #x{code:04x} is not allowed"
        raise ConfigError(f"invalid YAML: {problem}", path=path, line=line, column=column, code="syntax") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=path, code="syntax") from None


class _Yaml12Resolver:
    """YAML 1.2 core-schema numbers instead of PyYAML's YAML 1.1 ones.

    `010` is ten (not eight). Forms that YAML 1.1 reads as numbers and 1.2 does not, or whose meaning
    people get wrong (`0x10`, `0o17`, `0b101`, `1_000`, sexagesimal `1:30`), are tagged AMBIGUOUS and
    refused with the file:line, so that no value silently changes meaning. `.inf`/`.nan` are refused too.
    """

    INT = re.compile(r"^[-+]?[0-9]+$")
    FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
    SPECIAL = re.compile(r"^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$")
    SUSPECT = re.compile(
        r"^[-+]?(?:0[xXoObB][0-9a-fA-F_]*"
        r"|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
        r"|[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
        r"|[0-9_]*\.[0-9_]*_[0-9_]*(?:[eE][-+]?[0-9]+)?)$"
    )
    NUMERIC = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

    @classmethod
    def install(cls, loader: Any) -> None:
        table = {
            first: [(tag, rx) for tag, rx in entries if tag not in cls.NUMERIC]
            for first, entries in loader.yaml_implicit_resolvers.items()
        }
        loader.yaml_implicit_resolvers = table
        digits = list("-+0123456789")
        loader.add_implicit_resolver(AMBIGUOUS, cls.SUSPECT, digits)
        loader.add_implicit_resolver("tag:yaml.org,2002:int", cls.INT, digits)
        loader.add_implicit_resolver("tag:yaml.org,2002:float", cls.FLOAT, [*digits, "."])
        loader.add_implicit_resolver(AMBIGUOUS, cls.SPECIAL, ["-", "+", "."])


AMBIGUOUS = "tag:capctl,2026:ambiguous-number"
MAX_DEPTH = 32


class _SafeLoader12(yaml.SafeLoader):
    pass


_Yaml12Resolver.install(_SafeLoader12)
_FAST: Any = _SafeLoader12
if hasattr(yaml, "CSafeLoader"):

    class _CSafeLoader12(yaml.CSafeLoader):
        pass

    _Yaml12Resolver.install(_CSafeLoader12)
    #: libyaml when available (about 15x faster: every plan reads ~25 policy files); the pure-Python parser
    #: re-reads a broken file so that messages and positions do not depend on which one is installed.
    _FAST = _CSafeLoader12


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_FAST)
    except yaml.YAMLError:
        if _FAST is _SafeLoader12:
            raise
        return yaml.compose(text, Loader=_SafeLoader12)


def _check_events(text: str, path: str) -> None:
    """One pass over the parser's events (not recursive, unlike composing): refuse aliases and deep nesting.

    Aliases (*name) repeat a value elsewhere (no file may expand into a huge document); nesting deeper
    than MAX_DEPTH is no policy and would exhaust the recursion of the composer and of the checks.
    """
    depth = 0
    try:
        events = yaml.parse(text, Loader=_FAST)
        for event in events:
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail_at(
                        event, path, f"nested deeper than {MAX_DEPTH} levels; is it a policy file?", "too_deep"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                raise _fail_at(event, path, "aliases (*name) are not allowed; write the value out", "alias")
    except yaml.YAMLError:
        if _FAST is _SafeLoader12:
            raise
        for _ in yaml.parse(text, Loader=_SafeLoader12):  # the pure-Python parser's message and position
            pass
        raise


def _fail_at(event: yaml.Event, path: str, message: str, code: str) -> ConfigError:
    mark = event.start_mark
    return ConfigError(
        message,
        path=path,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        code=code,
    )


def read_text(path: Path, what: str = "file") -> str:
    """A UTF-8 text file through the bounded, regular-files-only reader (see capacity/common/files.py)."""
    raw = read_bounded(path, MAX_FILE_BYTES, what)
    text, encoding = decode(raw)  # with or without a BOM, CRLF or LF
    if encoding == LEGACY_ENCODING:
        raise ConfigError(f"{what} is not UTF-8 text", path=str(path), code="not_utf8")
    return text


#: Encodings `decode` recognises, in the order tried: what editors on Windows and Linux save.
LEGACY_ENCODING = "cp1252"


def decode(raw: bytes) -> tuple[str, str]:
    """The text of a file as editors save it, with `\n` line ends, and the encoding it was in.

    UTF-8 with or without a byte-order mark ("utf-8", "utf-8-sig"); otherwise Windows-1252 (a superset
    of Latin-1 for letters, what older Windows editors write), so that "é" saved by Notepad still reads
    as "é". CRLF and CR line ends become LF.
    """
    try:
        text = raw.decode("utf-8-sig")
        encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode(LEGACY_ENCODING, errors="replace"), LEGACY_ENCODING
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def load_yaml_file(path: Path, what: str = "file") -> YamlDoc:
    """Read and parse a YAML file; missing, special, too large or unreadable files are ConfigErrors."""
    return load_yaml_text(read_text(path, what), str(path))


def scalar_value(node: yaml.ScalarNode, path: str) -> Any:
    """The plain value of a scalar node (YAML 1.2 numbers; ambiguous or non-finite numbers refused)."""
    return _Builder(path, {}, {})._scalar(node)


class _Constructor(yaml.SafeLoader):
    """Constructs one scalar: decimal integers are read in base ten (`010` is 10, YAML 1.2)."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        return int(str(node.value), 10)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_SCALAR = _Constructor("")
_AMBIGUOUS_MESSAGE = (
    "number in a YAML 1.1 form (0x…, 0o…, 1_000, 1:30, .inf, .nan) whose meaning differs between tools; "
    "write it in plain decimal digits, or between quotes if it is text"
)
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _Builder:
    """Plain values from composed nodes, recording each field's position; refuses aliases and merges."""

    def __init__(self, path: str, lines: dict[PathKey, int], columns: dict[PathKey, int]) -> None:
        self.path = path
        self.lines = lines
        self.columns = columns
        self.seen: set[int] = set()

    def _fail(self, message: str, node: yaml.Node, code: str) -> ConfigError:
        mark = node.start_mark
        return ConfigError(message, path=self.path, line=mark.line + 1, column=mark.column + 1, code=code)

    def _mark(self, key: PathKey, node: yaml.Node) -> None:
        self.lines[key] = node.start_mark.line + 1
        self.columns[key] = node.start_mark.column + 1

    def build(self, node: yaml.Node, key: PathKey) -> Any:
        if id(node) in self.seen and not isinstance(node, yaml.ScalarNode):
            raise self._fail("aliases (*name) are not allowed; write the value out", node, "alias")
        self.seen.add(id(node))
        if key not in self.lines:
            self._mark(key, node)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            raise self._fail(f"tag {node.tag} is not allowed; write plain values", node, "bad_value")
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for k_node, v_node in node.value:
                if k_node.tag == "tag:yaml.org,2002:merge":
                    raise self._fail("merge keys (<<) are not allowed", k_node, "merge")
                if not isinstance(k_node, yaml.ScalarNode):
                    raise self._fail("keys must be plain text", k_node, "key_type")
                k = self._scalar(k_node)
                if not isinstance(k, str | int | bool | float) or k is None:
                    raise self._fail("keys must be plain text", k_node, "key_type")
                # `no:`, `on:` are booleans in YAML 1.1; as keys people mean the word they wrote
                k_text: str | int = k if isinstance(k, int) and not isinstance(k, bool) else str(k)
                if isinstance(k, bool):
                    k_text = k_node.value
                if k_text in out:
                    raise self._fail(f"key {k_text!r} appears twice", k_node, "duplicate_key")
                self._mark((*key, k_text), k_node)
                out[k_text] = self.build(v_node, (*key, k_text))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*key, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode):
            try:
                return self._scalar(node)
            except ConfigError as exc:
                if not key or exc.code != "ambiguous_number":
                    raise
                field = ".".join(str(k) for k in key)  # name the setting or field, not only its position
                raise self._fail(f"{field}: {_AMBIGUOUS_MESSAGE}", node, "ambiguous_number") from None
        raise self._fail("unsupported YAML node", node, "syntax")  # pragma: no cover

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == AMBIGUOUS:
            raise self._fail(_AMBIGUOUS_MESSAGE, node, "ambiguous_number")
        try:
            value = _SCALAR.construct_object(node, deep=True)
            if isinstance(value, float) and not math.isfinite(value):
                raise self._fail(_AMBIGUOUS_MESSAGE, node, "ambiguous_number")
            return value
        except yaml.constructor.ConstructorError as exc:
            raise self._fail(f"unsupported value: {exc.problem}", node, "bad_value") from None
        except (ValueError, OverflowError) as exc:
            if node.tag == "tag:yaml.org,2002:timestamp":
                return node.value  # 2021-02-30 looks like a date but is not one: text, for the caller to reject
            raise self._fail(f"unreadable value ({type(exc).__name__})", node, "bad_value") from None
