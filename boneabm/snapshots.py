"""Spatial snapshots: where every cell is and what the surface looks like, at one time.

A ``Frame`` is taken from a live model (``frame_of``) or read back from a run directory (``read_frame``); the
app, the movies and the figures draw frames and nothing else, so a live view and a replay look the same.

On disk (``RUN_DIR/snapshots/``), one pair of files per snapshot time, each written whole (atomically):

- ``cells/t0000024.000h.parquet``: one row per living cell (``SNAPSHOT_CELL_COLUMNS``). Parquet: typed,
  compressed, and ``pandas.read_parquet(RUN_DIR / "snapshots" / "cells")`` reads every time at once.
- ``maps/t0000024.000h.npz``: the bone's depth maps (per bone pixel) and the factor fields (per site) as
  float32 arrays indexed ``[x, y]``, with the pixel and site pitch. ``.npz`` rather than zarr: ``numpy.load``
  reads it with no further dependency, and a map of a few hundred pixels a side needs no chunking.

One file per time (not one growing file) so an unfinished run's snapshots can be read while it goes, and a
resumed run rewrites the ones after its checkpoint identically. Taking a snapshot reads the model and draws no
random number: the tables of a run are the same with or without them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from boneabm.environment.fields import ANTIBODY_DA
from boneabm.errors import UserError
from boneabm.files import atomic_binary
from boneabm.units import MCSF_HOMODIMER_DA, OPG_DIMER_DA, RANKL_MONOMER_DA, nM_to_ng_ml

SNAPSHOTS = "snapshots"
SNAPSHOT_CELL_COLUMNS = ("time_h", "lineage", "cell_id", "x_um", "y_um", "state", "nuclei")
# map -> (field species, molecular weight): free factor at each site as the cells see it, ng/mL (the fields hold
# OPG and the antibody as their RANKL-binding sites: divided by the sites per molecule, as timeseries.csv does)
FIELD_MAPS = {"mcsf_ng_ml": ("mcsf", MCSF_HOMODIMER_DA), "rankl_free_ng_ml": ("rankl", RANKL_MONOMER_DA),
              "opg_free_ng_ml": ("opg", OPG_DIMER_DA), "antibody_free_ng_ml": ("antibody", ANTIBODY_DA)}
DEPTH_MAPS = ("mineral_depth_um", "collagen_depth_um")
# per bone pixel, in a run with an osteoblast lineage: new matrix laid down (µm), the part of it still osteoid, and
# the cement line reversal cells laid since the last resorption (µm)
FORMATION_MAPS = ("formed_um", "osteoid_um", "cement_um")
EVENT_MAP = "resorption_event"  # per bone pixel: 0 not resorbed, 1 in a pit, 2 in a trench (Bone.event_map)
_NAME = re.compile(r"^t(\d+\.\d{3})h\.(parquet|npz)$")


@dataclass
class Frame:
    """The surface at ``time_h``: cells (``SNAPSHOT_CELL_COLUMNS``), maps by name (``FIELD_MAPS`` per site,
    ``DEPTH_MAPS``, ``EVENT_MAP`` and, with an osteoblast lineage, ``FORMATION_MAPS`` per bone pixel, indexed
    ``[x, y]``) and the domain's size."""

    time_h: float
    cells: pd.DataFrame
    maps: dict[str, np.ndarray]
    width_um: float
    height_um: float


def cells_table(time_h: float, spacing_um: float, parts) -> pd.DataFrame:
    """The cells table (``SNAPSHOT_CELL_COLUMNS``) of ``parts``: per lineage, its name, and its cells' ids,
    sites (x, y) and states (``cell_states``), in the table's order."""
    tables = [pd.DataFrame({
        "time_h": np.full(cell_id.size, time_h), "lineage": name, "cell_id": cell_id,
        "x_um": (x + 0.5) * spacing_um, "y_um": (y + 0.5) * spacing_um,
        "state": states["state"], "nuclei": np.asarray(states["nuclei"], dtype=np.int64)})
        for name, cell_id, x, y, states in parts]
    cells = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    cells["lineage"] = cells["lineage"].astype("category")
    cells["state"] = cells["state"].astype("category")
    return cells


def lineage_cells(model) -> list:
    """Each lineage of ``model`` as ``cells_table`` reads it, its cells in the order of their ids (arrays of its
    own: the model may step on)."""
    parts = []
    for name, lineage in model.lineages.items():
        pop = lineage.population
        rows = pop.rows[np.argsort(pop.cell_id[pop.rows], kind="stable")]
        parts.append((name, pop.cell_id[rows], pop.x[rows], pop.y[rows], lineage.cell_states(rows)))
    return parts


def field_ng_ml(fields, column: str) -> np.ndarray:
    """The factor of ``FIELD_MAPS[column]`` free at each site, ng/mL (an array of its own)."""
    species, weight = FIELD_MAPS[column]
    return nM_to_ng_ml(fields.sites[species] / fields.binding_sites.get(species, 1), weight)


def frame_of(model) -> Frame:
    """A frame of a live model; the model is only read."""
    cells = cells_table(model.time_h, model.experiment.domain.grid_spacing_um, lineage_cells(model))
    maps = {column: field_ng_ml(model.fields, column).astype(np.float32) for column in FIELD_MAPS}
    maps["mineral_depth_um"] = model.bone.mineral_depth_um.astype(np.float32)
    maps["collagen_depth_um"] = model.bone.collagen_depth_um.astype(np.float32)
    maps[EVENT_MAP] = model.bone.event_map()
    if "osteoblast" in model.lineages:  # zeros before formation, so every frame of a run has the same maps
        bone = model.bone
        maps["formed_um"] = bone.formed_depth_um().astype(np.float32)
        maps["osteoid_um"] = (bone.new_bone.osteoid_um if bone.new_bone is not None
                              else np.zeros(bone.shape)).astype(np.float32)
        maps["cement_um"] = bone.cement_um.astype(np.float32)
    domain = model.experiment.domain
    return Frame(model.time_h, cells, maps, domain.width_um, domain.height_um)


def _stem(time_h: float) -> str:
    return f"t{time_h:011.3f}h"


def write_frame(run_dir: Path, frame: Frame) -> None:
    """Write ``frame`` into ``run_dir/snapshots/`` (a snapshot already there for that time is replaced: a
    resumed run writes it again, the same)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(run_dir) / SNAPSHOTS
    (folder / "cells").mkdir(parents=True, exist_ok=True)
    (folder / "maps").mkdir(exist_ok=True)
    stem = _stem(frame.time_h)
    table = pa.Table.from_pandas(frame.cells[list(SNAPSHOT_CELL_COLUMNS)], preserve_index=False)
    with atomic_binary(folder / "cells" / f"{stem}.parquet") as handle:
        pq.write_table(table, handle, compression="zstd")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, time_h=np.float64(frame.time_h), width_um=np.float64(frame.width_um),
                        height_um=np.float64(frame.height_um), **frame.maps)
    with atomic_binary(folder / "maps" / f"{stem}.npz") as handle:
        handle.write(buffer.getvalue())


def snapshot_times(run_dir: Path) -> list[float]:
    """The times (h) at which ``run_dir`` has both files of a snapshot, in order."""
    folder = Path(run_dir) / SNAPSHOTS
    found: dict[str, set] = {}
    for kind in ("cells", "maps"):
        if (folder / kind).is_dir():
            for path in (folder / kind).iterdir():
                match = _NAME.match(path.name)
                if match:
                    found.setdefault(match.group(1), set()).add(match.group(2))
    return sorted(float(t) for t, kinds in found.items() if kinds == {"parquet", "npz"})


def read_frame(run_dir: Path, time_h: float) -> Frame:
    """The snapshot of ``run_dir`` at ``time_h`` (one of ``snapshot_times``)."""
    folder, stem = Path(run_dir) / SNAPSHOTS, _stem(time_h)
    try:
        cells = pd.read_parquet(folder / "cells" / f"{stem}.parquet")
        with np.load(folder / "maps" / f"{stem}.npz") as data:
            maps = {name: data[name] for name in data.files if name not in ("time_h", "width_um", "height_um")}
            width_um, height_um = float(data["width_um"]), float(data["height_um"])
    except (OSError, ValueError) as exc:
        raise UserError(f"{folder}: snapshot at {time_h:g} h unreadable ({exc})") from None
    return Frame(float(time_h), cells, maps, width_um, height_um)


def require_snapshots(run_dir: Path) -> list[float]:
    """``snapshot_times``, or a ``UserError`` naming the run when it has none."""
    times = snapshot_times(run_dir)
    if not times:
        raise UserError(f"{run_dir}: this run has no spatial snapshots ({SNAPSHOTS}/ is missing or empty: it was "
                        "made before boneabm recorded them, or stopped before the first); run it again to view it")
    return times
