"""A model's state as data, and the checkpoint file that holds it.

``BoneModel.state()`` gathers everything the future depends on into a ``ModelState``: arrays (every population
column including molecule counts and each cell's xoshiro state, the fields, the bone maps) and JSON metadata
(the clock, Mesa's counters and generators, totals and records, the resolved experiment, the network's
validated spec and its search order). ``BoneModel.from_state`` rebuilds the model from it, agents included.

A checkpoint is one numpy ``.npz`` file (uncompressed: writing 100k cells takes a fraction of a second and
numpy reads it with ``allow_pickle=False``, so a checkpoint cannot run code): the arrays under
``<part>/<name>``, and the metadata as UTF-8 JSON bytes under ``meta.json``, whose ``format`` and ``version``
say what the file is. It is written to a temporary name and renamed, so it is whole or absent.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from boneabm.errors import UserError
from boneabm.files import atomic_binary

FORMAT = "boneabm-checkpoint"
VERSION = 4  # 2: the osteoclasts' days (population columns day*, lineage arrays days/*); 3: daily front marks;
# 4: the bone's cement line and last resorption per pixel
_META = "meta.json"


class CheckpointError(UserError):
    """A checkpoint that cannot be used: the message names the file and what is wrong."""


@dataclass
class ModelState:
    meta: dict
    arrays: dict[str, np.ndarray]

    @property
    def time_h(self) -> float:
        return float(self.meta["time_h"])

    def part(self, name: str) -> tuple[dict[str, np.ndarray], dict]:
        """The arrays (prefix removed) and metadata of one part: ``fields``, ``bone``, ``lineage/osteoclast``."""
        prefix = f"{name}/"
        return ({key[len(prefix):]: value for key, value in self.arrays.items() if key.startswith(prefix)},
                self.meta["parts"][name])


def spec_digest(spec: dict) -> str:
    """SHA-256 of a network's validated spec as JSON in its own order (the order of species is the order of the
    molecule columns): what "the same network" means."""
    return hashlib.sha256(json.dumps(spec, separators=(",", ":")).encode()).hexdigest()


def save(state: ModelState, path: Path) -> Path:
    """Write ``state`` to ``path`` atomically; returns ``path``."""
    path = Path(path)
    meta = {"format": FORMAT, "version": VERSION, **state.meta}
    payload = {name: np.ascontiguousarray(values) for name, values in state.arrays.items()}
    # key order is meaning here (a network's species order is its columns' order): never sorted
    payload[_META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with atomic_binary(path, durable=True) as handle:
        np.savez(handle, **payload)
    return path


def load(path: Path) -> ModelState:
    """Read a checkpoint; anything that is not a whole checkpoint of this version is a ``CheckpointError``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META not in archive.files:
                raise CheckpointError(f"checkpoint {path}: not a boneabm checkpoint (no {_META})")
            meta = json.loads(archive[_META].tobytes().decode())
            if meta.get("format") != FORMAT:
                raise CheckpointError(f"checkpoint {path}: not a boneabm checkpoint (format {meta.get('format')!r})")
            if meta.get("version") != VERSION:
                raise CheckpointError(f"checkpoint {path}: version {meta.get('version')!r}; this boneabm reads "
                                      f"version {VERSION} (written by boneabm {meta.get('boneabm_version')})")
            arrays = {name: archive[name] for name in archive.files if name != _META}
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, UnicodeDecodeError,
            json.JSONDecodeError) as exc:
        raise CheckpointError(f"checkpoint {path}: truncated or corrupted ({type(exc).__name__}: {exc})") from None
    missing = [name for name in meta.get("array_names", []) if name not in arrays]
    if missing or "array_names" not in meta:
        raise CheckpointError(f"checkpoint {path}: incomplete, arrays missing: {missing[:5] or 'array_names'}")
    return ModelState(meta, arrays)
