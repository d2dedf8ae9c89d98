"""Safe YAML loading that remembers where every value came from.

Policy files are edited by people, so an error must name the file, the line and the field. PyYAML's
composer gives node positions; we build plain Python values from the nodes ourselves (safe types only:
maps, lists, str, int, float, bool, null, dates) and keep a map from field path to line number.
Aliases are refused (no alias bombs) and files are size-limited. Positions are 1-based (line, column)
of the key for a mapping entry and of the item for a list entry. Every error carries a `code`
(`too_large`, `unreadable`, `not_found`, `syntax`, `alias`, `merge`, `key_type`,
`duplicate_key`, `bad_value`) so that callers can word it in French.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from capacity.common.errors import ConfigError

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
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise ConfigError(
            f"file larger than {MAX_FILE_BYTES} bytes; is it the right file?", path=path, code="too_large"
        )
    try:
        if "*" in text:  # cheap pre-check: only then look for alias events, to point at the alias itself
            _refuse_aliases(text, path)
        node = _compose(text)
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
    lines: dict[PathKey, int] = {}
    columns: dict[PathKey, int] = {}
    if node is None:
        return YamlDoc(path=path, data=None, lines=lines, columns=columns, text=text)
    data = _Builder(path, lines, columns).build(node, ())
    return YamlDoc(path=path, data=data, lines=lines, columns=columns, text=text)


#: libyaml when available (about 15x faster: every plan reads ~25 policy files); the pure-Python parser
#: re-reads a broken file so that messages and positions do not depend on which one is installed.
_FAST: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_FAST)
    except yaml.YAMLError:
        if _FAST is yaml.SafeLoader:
            raise
        return yaml.compose(text, Loader=yaml.SafeLoader)


def _refuse_aliases(text: str, path: str) -> None:
    """Aliases (*name) repeat a value elsewhere; refused so that no file can expand into a huge document."""
    for event in yaml.parse(text, Loader=_FAST):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise ConfigError(
                "aliases (*name) are not allowed; write the value out",
                path=path,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
                code="alias",
            )


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


def load_yaml_file(path: Path) -> YamlDoc:
    """Read and parse a YAML file with a size limit; missing or unreadable files are ConfigErrors."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(
                f"file larger than {MAX_FILE_BYTES} bytes; is it the right file?", path=str(path), code="too_large"
            )
        text, _ = decode(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path), code="not_found") from None
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", path=str(path), code="unreadable") from None
    return load_yaml_text(text, str(path))


_SCALAR = yaml.SafeLoader("")
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
            return self._scalar(node)
        raise self._fail("unsupported YAML node", node, "syntax")  # pragma: no cover

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            return _SCALAR.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise self._fail(f"unsupported value: {exc.problem}", node, "bad_value") from None
        except (ValueError, OverflowError) as exc:
            if node.tag == "tag:yaml.org,2002:timestamp":
                return node.value  # 2021-02-30 looks like a date but is not one: text, for the caller to reject
            raise self._fail(f"invalid value {node.value!r}: {exc}", node, "bad_value") from None
