"""A small on-disk cache for results that are slow to compute and wholly determined by their key.

Entries live in ``$BONEABM_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/boneabm``, else ``~/.cache/boneabm``; one
JSON file per entry, named by its key (a SHA-256 of everything the result depends on), so nothing is ever
invalidated: a change makes a new key. A cache must never fail a run, so an entry that cannot be read or
parsed is a miss and one that cannot be written is skipped, silently.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from boneabm.files import write_atomically

ENV_VAR = "BONEABM_CACHE_DIR"


def cache_dir() -> Path:
    """Where boneabm keeps its cache (it need not exist yet)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "boneabm"


def entry_path(kind: str, key: str) -> Path:
    return cache_dir() / kind / f"{key}.json"


def read_entry(kind: str, key: str) -> Any | None:
    """The value stored under ``kind``/``key``, or None when there is none (or it cannot be read)."""
    try:
        return json.loads(entry_path(kind, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_entry(kind: str, key: str, value: Any) -> None:
    """Store ``value`` (JSON-able) under ``kind``/``key``, atomically; give up silently if the cache is not
    writable (a read-only home, a full disk): the caller has its value and goes on."""
    path = entry_path(kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(value, indent=1) + "\n")
    except OSError:
        pass
