"""Reading YAML files and ``--set dotted.key=value`` overrides: the layer under every schema.

It knows nothing of experiments or networks, so both ``config`` and ``signaling`` build on it without importing
each other. Every failure is a ``UserError`` naming the file or the override.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from boneabm.errors import UserError


# libyaml's parser when PyYAML was built with it (the wheels are): ten times faster than the pure-Python one,
# which made reading the rank network most of ``load_network``'s time; it also refuses nesting deeper than 1000
class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A YAML loader that refuses a key given twice in one mapping instead of keeping the last silently."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a name or a number, not a {type(key).__name__}",
                key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen[key] = True
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)
# YAML 1.2's floats: PyYAML (YAML 1.1) reads 1e-3 and 3.1e4 as strings, which a schema that refuses strings for
# numbers would then reject; quoted "5" stays a string
_UniqueKeyLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"""^(?:
    [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X), list("-+0123456789."))


def load_text(text: str) -> Any:
    """One YAML document as Python values, read as boneabm reads every file (YAML 1.2 floats, unique keys)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


MAX_FILE_BYTES = 10 * 2**20  # a config, sweep or network file is kilobytes; more is a mistake or an attack
MAX_EXPANDED_NODES = 100_000  # values once aliases are expanded: far above any real file, far below a bomb


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many nodes ``node`` stands for with every alias expanded (a shared node counts at each use), in time
    linear in the composed graph; stops counting once past the limit."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    else:
        children = []
    for child in children:
        size += _expanded_size(child, memo)
        if size > MAX_EXPANDED_NODES:
            break
    memo[id(node)] = size
    return size


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping from ``path``; every failure is a ``UserError`` naming the file.

    The input is bounded before it is built: a regular file (not a FIFO or a device, which could block or never
    end) of at most ``MAX_FILE_BYTES``, nested no deeper than Python's recursion allows, and at most
    ``MAX_EXPANDED_NODES`` values once aliases are expanded (a few lines of nested aliases make billions)."""
    path = Path(path)
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            raise UserError(f"{path}: not a regular file (a pipe or a device?), expected a YAML file")
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"{path}: {path.stat().st_size:,} bytes, more than the {MAX_FILE_BYTES:,} a YAML "
                            f"input may have")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read ({exc})") from None
    try:
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _expanded_size(node, {}) > MAX_EXPANDED_NODES:
                raise UserError(f"{path}: more than {MAX_EXPANDED_NODES:,} values once its aliases (*name) are "
                                f"expanded; write the values out or use fewer aliases")
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):  # libyaml's own bound
            raise UserError(f"{path}: nested too deeply to be a config ({exc})") from None
        raise UserError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise UserError(f"{path}: nested too deeply to be a config") from None
    if data is None:
        raise UserError(f"{path}: is empty; a config, sweep or network file needs at least one key (an experiment "
                        "of the defaults is `boneabm run osteoclastogenesis`)")
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys to values at the top, got {type(data).__name__}")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``dotted.key=value``; the value is read as YAML (``30``, ``1e-3``, ``null``, ``[1, 2]``)."""
    key, sep, raw = text.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in parts):
        raise UserError(f"--set {text!r}: expected dotted.key=value, e.g. --set medium.mcsf_ng_ml=30")
    try:
        value = load_text(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise UserError(f"--set {text!r}: the value is not valid YAML ({exc})") from None
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return a copy of ``data`` with each ``dotted.key=value`` set, creating sections as needed."""
    data = copy.deepcopy(data)
    for text in overrides:
        parts, value = parse_override(text)
        node = data
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise UserError(
                    f"--set {text!r}: {'.'.join(parts[: i + 1])} = {child!r} is a value, not a section")
            node = child
        node[parts[-1]] = value
    return data
