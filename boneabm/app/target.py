"""What ``boneabm app PATH`` was given: an experiment (file or shipped example), a run directory with
snapshots, or a sweep directory whose runs have them; anything else is refused before a server starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from boneabm.errors import UserError

LIVE, RUN, SWEEP = "live", "run", "sweep"
DEFAULT_EXPERIMENT = "osteoclastogenesis"


@dataclass(frozen=True)
class Target:
    kind: str  # LIVE, RUN or SWEEP
    path: Path


def sweep_members(sweep_dir: Path) -> list[Path]:
    """A sweep's finished run directories that have snapshots, in the order of their names."""
    from boneabm.snapshots import snapshot_times

    return [p for p in sorted(sweep_dir.iterdir()) if p.is_dir() and (p / "metadata.json").is_file()
            and snapshot_times(p)]


def resolve_target(given: str | None) -> Target:
    """The app's target for ``given`` (a path or an example's name; None: the shipped assay)."""
    from boneabm.catalog import resolve
    from boneabm.config import load_experiment
    from boneabm.snapshots import require_snapshots

    if given is None:
        given = DEFAULT_EXPERIMENT
    path = Path(given)
    if path.is_dir():
        if (path / "metadata.json").is_file():
            require_snapshots(path)
            return Target(RUN, path.resolve())
        if (path / "sweep.json").is_file():
            if not sweep_members(path):
                raise UserError(f"{path}: a sweep directory none of whose runs has spatial snapshots (finished runs "
                                "record them); nothing to replay")
            return Target(SWEEP, path.resolve())
        raise UserError(f"{path}: neither an experiment file nor a run or sweep directory (no metadata.json or "
                        "sweep.json in it)")
    path = resolve(given, "experiment")  # a shipped example by name; an unknown name is refused there
    if not path.is_file():
        raise UserError(f"{given}: no such experiment file, example or run directory")
    load_experiment(path)  # an invalid experiment is refused here, naming its key
    return Target(LIVE, path.resolve())
