"""Safe YAML loading that remembers where every value came from.

Policy files are edited by people, so an error must name the file, the line and the field. PyYAML's
composer gives node positions; we build plain Python values from the nodes ourselves (safe types only:
maps, lists, str, int, float, bool, null, dates) and keep a map from field path to line number.
Aliases are refused (no alias bombs) and files are size-limited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from capacity.errors import ConfigError

MAX_FILE_BYTES = 1_000_000
PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML document with the line (1-based) of each field path."""

    path: str
    data: Any
    lines: Mapping[PathKey, int] = field(default_factory=dict)

    def line_of(self, key: PathKey) -> int | None:
        """Line of the field at `key`, or of its closest parent that has one."""
        probe = tuple(key)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)

    def error(self, key: PathKey, message: str) -> ConfigError:
        """A ConfigError pointing at `key` in this file."""
        dotted = ".".join(str(k) for k in key)
        prefix = f"{dotted}: " if dotted else ""
        return ConfigError(prefix + message, path=self.path, line=self.line_of(key))


def load_yaml_text(text: str, path: str) -> YamlDoc:
    """Parse one YAML document from `text`; `path` is only used in messages."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise ConfigError(f"file larger than {MAX_FILE_BYTES} bytes; is it the right file?", path=path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"invalid YAML: {exc.problem}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=path) from None
    lines: dict[PathKey, int] = {}
    if node is None:
        return YamlDoc(path=path, data=None, lines=lines)
    data = _build(node, (), lines, path, set())
    return YamlDoc(path=path, data=data, lines=lines)


def load_yaml_file(path: Path) -> YamlDoc:
    """Read and parse a YAML file with a size limit; missing or unreadable files are ConfigErrors."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(f"file larger than {MAX_FILE_BYTES} bytes; is it the right file?", path=str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", path=str(path)) from None
    return load_yaml_text(text, str(path))


_SCALAR = yaml.SafeLoader("")


def _build(node: yaml.Node, key: PathKey, lines: dict[PathKey, int], path: str, seen: set[int]) -> Any:
    if id(node) in seen and not isinstance(node, yaml.ScalarNode):
        raise ConfigError(
            "aliases (*name) are not allowed; write the value out", path=path, line=node.start_mark.line + 1
        )
    seen.add(id(node))
    lines[key] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for k_node, v_node in node.value:
            if k_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigError("merge keys (<<) are not allowed", path=path, line=k_node.start_mark.line + 1)
            k = _build(k_node, key, {}, path, seen)
            if not isinstance(k, str | int | bool | float) or k is None:
                raise ConfigError("keys must be plain text", path=path, line=k_node.start_mark.line + 1)
            k_text: str | int = k if isinstance(k, int) and not isinstance(k, bool) else str(k)
            if k_text in out:
                raise ConfigError(f"key {k_text!r} appears twice", path=path, line=k_node.start_mark.line + 1)
            out[k_text] = _build(v_node, (*key, k_text), lines, path, seen)
            lines[(*key, k_text)] = k_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*key, i), lines, path, seen) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode):
        try:
            return _SCALAR.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise ConfigError(f"unsupported value: {exc.problem}", path=path, line=node.start_mark.line + 1) from None
        except ValueError as exc:  # e.g. a date like 2021-13-01
            raise ConfigError(
                f"expected a date YYYY-MM-DD, found {node.value!r} ({exc})", path=path, line=node.start_mark.line + 1
            ) from None
    raise ConfigError("unsupported YAML node", path=path, line=node.start_mark.line + 1)  # pragma: no cover
