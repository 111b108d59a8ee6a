"""Errors a user can cause and fix, kept apart from bugs, and the one way each is put into words.

A ``UserError`` is reported as one clear message with exit status 2 and no traceback; anything else is a bug
and keeps its traceback. ``validation_lines`` words a pydantic validation error for every schema (experiments,
sweeps, panels, networks) and ``did_you_mean`` suggests the name a user probably meant, so a message names the
key, the value and what is allowed the same way wherever it comes from.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any


class UserError(Exception):
    """Bad input: a config, an override, a path. The message names the key, the value and what is allowed."""


def close_matches(name: str, known: Iterable[str], n: int = 1) -> list[str]:
    """Up to ``n`` known names ``name`` most likely stands for, best first."""
    known = list(known)
    # a name given without its unit (``mcsf`` for ``mcsf_ng_ml``) is the commonest slip; then typos
    with_unit = [k for k in known if k.startswith(f"{name}_")]
    by_spelling = [k for k in difflib.get_close_matches(name, known, n=n, cutoff=0.6) if k not in with_unit]
    return (with_unit + by_spelling)[:n]


def did_you_mean(name: str, known: Iterable[str], n: int = 1, prefix: str = "") -> str:
    """`` (did you mean 'x'?)`` for the closest known names (each written after ``prefix``), or ``""``."""
    close = close_matches(name, known, n)
    return f" (did you mean {', '.join(repr(prefix + c) for c in close)}?)" if close else ""


def validation_lines(errors: list[dict], schema: type) -> list[str]:
    """One line per error of ``ValidationError.errors()`` raised validating ``schema`` (a pydantic model):
    the key as the user wrote it (``doses[0].every_h``), the value given and what is allowed."""
    return [_describe(error, schema) for error in errors]


def _describe(error: dict, schema: type) -> str:
    loc = tuple(error["loc"])
    key, _ = _walk(schema, loc)
    if error["type"] == "extra_forbidden":
        parent_key, parent = _walk(schema, loc[:-1])
        allowed = _keys(parent) if parent is not None else []
        retired = getattr(parent, "retired_keys", {}).get(str(loc[-1]))
        if retired:
            return f"{key}: no longer a key: {retired}"
        hint = did_you_mean(str(loc[-1]), allowed, prefix=f"{parent_key}." if parent_key else "")
        return f"{key}: unknown key{hint}; allowed here: {', '.join(allowed)}"
    message = error["msg"].removeprefix("Value error, ")
    if not key:  # a whole-file check: its message names its keys
        return message
    if error["type"] in ("model_attributes_type", "model_type", "dict_type"):
        return f"{key} = {error['input']!r}: expected a section (a mapping of keys to values)"
    if error["type"] in ("value_error", "assertion_error"):  # our own checks name their keys
        return message if message.startswith(key.split(".")[0].split("[")[0]) else f"{key}: {message}"
    return f"{key} = {error['input']!r}: {message}"


def _keys(model: type) -> list[str]:
    """A model's keys as written in a file (a field's alias where it has one: a sweep's ``from``)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _walk(schema: type, loc: tuple) -> tuple[str, type | None]:
    """The key ``loc`` points at, as written in a file, and the model found there (None if not a model).

    pydantic puts the member's name into ``loc`` when a value fails every member of a union (``initial.float``);
    a user never wrote it, so it is left out."""
    key, annotation = "", schema
    for part in loc:
        annotation, is_union_tag = _step(annotation, part)
        if is_union_tag:
            continue
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key, annotation if hasattr(annotation, "model_fields") else None


def _step(annotation: Any, part: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        for member in members:
            if part in (getattr(member, "__name__", None), str(member)):
                return member, True
        models = [m for m in members if hasattr(m, "model_fields")]
        annotation = models[0] if models else members[0] if len(members) == 1 else None
    if hasattr(annotation, "model_fields"):
        fields = {field.alias or name: field for name, field in annotation.model_fields.items()}
        field = fields.get(part) if isinstance(part, str) else None
        return (field.annotation if field else None), False
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and args:
        return args[0], False
    if origin is dict and len(args) == 2:
        return args[1], False
    return None, False
