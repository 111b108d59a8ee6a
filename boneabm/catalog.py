"""The example experiments, sweeps and validation panels shipped inside the package, found by name.

They live in ``boneabm/examples/`` (experiments), ``examples/sweeps/`` and ``examples/panels/``, so an installed
boneabm (a wheel on a cluster node, ``pip install git+...``) runs ``boneabm run osteoclastogenesis`` with no
checkout. A name that is also a file in the working directory means the file: what a user wrote wins.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from boneabm.errors import UserError

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
KINDS = {"experiment": EXAMPLES_DIR, "sweep": EXAMPLES_DIR / "sweeps", "panel": EXAMPLES_DIR / "panels"}


@dataclass(frozen=True)
class Example:
    name: str
    kind: str  # experiment | sweep | panel
    path: Path

    @property
    def summary(self) -> str:
        """The first sentence of the file's opening comment: what the example is for."""
        words = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            words += line.lstrip("#").split()
        text = " ".join(words)
        end = re.search(r"(?<!\bal)\.(\s|$)", text)  # a sentence's end, not "et al."
        return text[: end.start() + 1] if end else text


def examples(kind: str | None = None) -> list[Example]:
    """Every shipped example (of ``kind``), in name order within each kind."""
    return [Example(path.stem, k, path) for k, folder in KINDS.items() if kind in (None, k)
            for path in sorted(folder.glob("*.yaml"))]


def find(name: str, kind: str | None = None) -> Example:
    """The shipped example called ``name`` (with or without ``.yaml``); a ``UserError`` listing them otherwise."""
    stem = name.removesuffix(".yaml")
    found = [e for e in examples(kind) if e.name == stem]
    if not found:
        names = ", ".join(e.name for e in examples(kind))
        raise UserError(f"{name!r}: no such file, and no shipped {kind or 'example'} of that name ({names}); "
                        "boneabm examples lists them")
    return found[0]


def resolve(name_or_path: str | Path, kind: str | None = None) -> Path:
    """A file the user named, else the shipped example (of ``kind``) with that name. A bare name that is a folder
    here (a run directory called ``bmu``, say) is never a config: it names the example, if there is one."""
    path = Path(name_or_path)
    if path.is_file() or path.parent != Path("."):
        return path
    try:
        return find(str(name_or_path), kind).path
    except UserError:
        if path.exists():
            return path  # a folder that names no example: loading it says what it is
        raise


def copy_out(name: str, destination: Path) -> Path:
    """Copy the example ``name`` to ``destination`` (a directory, or a new file's path) for editing; never
    overwrites. Sweeps and panels name their base experiment as an example, so the copy runs where it lands."""
    example = find(name)
    target = destination / example.path.name if destination.is_dir() else destination
    if target.exists():
        raise UserError(f"{target}: already exists; nothing was copied (choose another destination)")
    if not target.parent.is_dir():
        raise UserError(f"{target.parent}: no such directory; nothing was copied")
    shutil.copyfile(example.path, target)
    return target


def base_experiment(folder: Path, base: str) -> Path:
    """A sweep's or panel's ``base``: a file relative to its own file's ``folder``, else a shipped experiment."""
    path = folder / base
    if path.is_file() or Path(base).parent != Path("."):
        return path.resolve()
    return find(base, "experiment").path
