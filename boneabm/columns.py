"""Every column of a run's tables, in one registry: table, column, dtype, unit and meaning.

The writers take their column order and dtypes from here, ``boneabm.load_run`` reads with them, each run
directory gets its ``columns.csv`` from them and the README's column tables are generated from them (a test
checks the README holds them verbatim: ``python -m boneabm.columns`` prints them). Columns that depend on the
network (``<observable>``, ``<counter>``) are entries by pattern, expanded with a run's network.

Dtypes never depend on the values: ``float64`` columns are written so they read back as floats (``1.0``, not
``1``), ``Int64`` is a nullable integer (empty when missing) and ``category`` a string from a fixed list.
"""

from __future__ import annotations

from collections.abc import Mapping
import functools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

TABLES = ("timeseries", "cells", "events", "osteoclasts", "osteoclast_days", "bone", "bmus")
OBSERVABLE, COUNTER = "<observable>", "<counter>"

STATES = ("precursor", "preosteoclast", "multinucleated", "osteoclast")
RESORPTION_MODES = ("none", "migrating", "pit", "trench")
LINEAGES = ("osteoclast", "osteoblast")
EVENTS = ("division", "death", "fusion", "extrusion", "recruitment", "egress", "flattening", "lifting", "settling",
          "descent", "embedding")
FATES = ("apoptosis", "fused", "alive")


@dataclass(frozen=True)
class Column:
    table: str
    name: str  # or a pattern holding <observable> or <counter>
    dtype: str  # float64, int64, Int64 (nullable integer) or category
    unit: str
    meaning: str
    categories: tuple[str, ...] = ()

    @property
    def placeholder(self) -> str | None:
        return next((p for p in (OBSERVABLE, COUNTER) if p in self.name), None)

    @property
    def pandas_dtype(self):
        if self.dtype == "category":
            return _categorical(self.categories)
        return pd.Int64Dtype() if self.dtype == "Int64" else np.dtype(self.dtype)


@functools.cache
def _categorical(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories))


def _table(table: str, rows: list[tuple]) -> list[Column]:
    return [Column(table, *row) for row in rows]


def _ng_ml(name: str, meaning: str) -> tuple:
    return name, "float64", "ng/mL", meaning


REGISTRY: list[Column] = [
    *_table("timeseries", [
        ("time_h", "float64", "h", "simulated time"),
        ("n_cells", "int64", "cells", "living cells of the lineage, of any stage"),
        ("n_precursors", "int64", "cells", "uncommitted mononuclear precursors"),
        ("precursors_per_cm2", "float64", "cells/cm²", "the same per area, comparable with counts per well"),
        ("n_trap_mononuclear", "int64", "cells", "TRAP⁺ (committed) mononuclear pre-osteoclasts"),
        ("n_multinucleated", "int64", "cells", "cells with ≥ 2 nuclei"),
        ("n_osteoclasts", "int64", "cells", "cells with ≥ `osteoclasts.min_nuclei` (3) nuclei"),
        ("nuclei_in_osteoclasts", "int64", "nuclei", "nuclei in those osteoclasts"),
        ("confluence", "float64", "1", "fraction of grid sites occupied"),
        ("divisions_total", "int64", "events", "divisions since t = 0 (difference rows for rates)"),
        ("deaths_total", "int64", "events", "deaths since t = 0"),
        ("fusions_total", "int64", "events", "fusions since t = 0"),
        ("precursors_recruited_total", "int64", "cells", "osteoclast precursors recruited from the marrow pool "
                                                         "since t = 0 (0 without `precursors.marrow_pool_per_mm2`)"),
        ("precursors_left_total", "int64", "cells", "osteoclast precursors that left the surface for the marrow "
                                                    "pool since t = 0 (`precursors.egress_rate_max_per_h`)"),
        ("nuclei_extruded_total", "int64", "nuclei", "apoptotic nuclei extruded from living multinucleated cells "
                                                     "since t = 0 (`osteoclasts.nucleus_extrusion_rate_per_h`)"),
        ("osteoprogenitors_recruited_total", "int64", "cells", "mesenchymal progenitors recruited from the marrow "
                                                               "pool since t = 0"),
        ("n_osteoprogenitors", "int64", "cells", "uncommitted mesenchymal progenitors of the osteoblast lineage (0 "
                                                 "unless `osteoblasts.enabled`)"),
        ("n_osteoblasts", "int64", "cells", "Osterix-committed cells of the osteoblast lineage, lining cells not "
                                            "counted"),
        ("n_lining_cells", "int64", "cells", "lining cells on the surface (their networks quiescent)"),
        ("lining_lifted_total", "int64", "cells", "lining cells that lifted off the surface into the canopy "
                                                  "since t = 0"),
        ("n_canopy_cells", "int64", "cells", "lifted lining cells forming the canopy, making M-CSF"),
        ("lining_settled_total", "int64", "cells", "canopy cells that settled back as lining cells since t = 0"),
        ("canopy_descended_total", "int64", "cells", "reversal cells the canopy sent down onto eroded surface "
                                                     "since t = 0 (its cells' daughters: the canopy keeps its own)"),
        ("osteocytes_embedded_total", "int64", "cells", "matrix-making osteoblasts embedded in their matrix as "
                                                        "osteocytes since t = 0"),
        ("osteoblasts_flattened_total", "int64", "cells", "matrix-making osteoblasts that flattened into lining "
                                                          "cells since t = 0"),
        ("osteoblast_apoptoses_total", "int64", "cells", "matrix-making (committed) osteoblasts that died by "
                                                         "apoptosis since t = 0; with the two above, the "
                                                         "osteoblasts' fates"),
        ("osteoblast_divisions_total", "int64", "events", "osteoblast-lineage divisions since t = 0"),
        ("osteoblast_deaths_total", "int64", "events", "osteoblast-lineage deaths since t = 0"),
        ("matrix_formed_um3", "float64", "µm³", "matrix the osteoblast lineage laid down since t = 0"),
        ("remnants_cleared_um3", "float64", "µm³", "demineralised collagen remnants reversal cells cleared from the "
                                                   "eroded surface since t = 0"),
        _ng_ml("mcsf_ng_ml", "M-CSF at the cells, mean over the sites"),
        _ng_ml("rankl_free_ng_ml", "free soluble RANKL at the cells, mean over the sites"),
        _ng_ml("rankl_total_ng_ml", "RANKL free plus bound to OPG or the antibody, mean over the sites"),
        _ng_ml("opg_free_ng_ml", "free OPG, mean over the sites (unoccupied binding sites counted as dimers)"),
        _ng_ml("antibody_free_ng_ml", "free anti-RANKL antibody, mean over the sites (unoccupied binding sites "
                                      "counted as molecules)"),
        _ng_ml("mcsf_sd_ng_ml", "standard deviation of M-CSF over the sites"),
        _ng_ml("rankl_free_sd_ng_ml", "standard deviation of free RANKL over the sites"),
        _ng_ml("medium_mcsf_ng_ml", "M-CSF in the medium above the cells (empty in tissue mode)"),
        _ng_ml("medium_rankl_free_ng_ml", "free RANKL in the medium above the cells (empty in tissue mode)"),
        ("medium_changes", "int64", "count", "medium changes so far"),
        ("resorbed_volume_um3", "float64", "µm³", "mineral removed from the slice"),
        ("collagen_removed_um3", "float64", "µm³", "collagen removed from the slice"),
        ("resorbed_area_um2", "float64", "µm²", "slice area resorbed deeper than 0.05 µm"),
        ("n_pits", "int64", "count", "resorbed areas (8-connected) that are not trenches; on a periodic slice an "
                                     "area crossing an edge counts once"),
        ("n_trenches", "int64", "count", "resorbed areas at least `bone.trench_elongation` times longer than wide"),
        ("mean_depth_um", "float64", "µm", "mean depth of the resorbed pixels (0 before any)"),
        ("max_depth_um", "float64", "µm", "deepest resorbed pixel (0 before any)"),
        ("es_bs", "float64", "1", "eroded surface / bone surface (ES/BS): a cavity deeper than 0.05 µm not yet "
                                  "refilled and not covered by osteoid"),
        ("os_bs", "float64", "1", "osteoid surface / bone surface (OS/BS)"),
        ("o_th_um", "float64", "µm", "osteoid thickness (O.Th), mean over the osteoid surface; empty without "
                                     "osteoid"),
        ("mar_um_per_d", "float64", "µm/d", "mineral apposition rate (MAR): the mineralisation front's "
                                           "advance over the last whole day, as double labels measure it, where "
                                           "it advanced; empty before two daily marks"),
        ("ms_bs", "float64", "1", "mineralising surface / bone surface (MS/BS): where the mineralisation "
                                  "front advanced over the last whole day"),
        ("bfr_bs_um3_per_um2_per_d", "float64", "µm³/µm²/d", "bone formation rate / bone surface (BFR/BS): "
                                                             "MAR × MS/BS, the mineralisation front's advance over "
                                                             "the last whole day per surface"),
        ("n_oc_bs_per_mm2", "float64", "/mm²", "osteoclasts per mm² of bone surface (N.Oc/BS)"),
        ("n_ob_bs_per_mm2", "float64", "/mm²", "committed osteoblasts per mm² of bone surface (N.Ob/BS)"),
        ("ctx_um3_per_d", "float64", "µm³/d", "CTX proxy: collagen resorbed over the last whole day"),
        ("p1np_um3_per_d", "float64", "µm³/d", "P1NP proxy: matrix (osteoid) laid down over the last whole day"),
        ("ssa_events_total", "int64", "events", "signaling events fired in all cells since t = 0"),
        (f"{COUNTER}_total", "int64", "events", "firings of a counted reaction in all cells since t = 0"),
        (f"{OBSERVABLE}_mean", "float64", "molecules", "mean over living cells of a network observable (a sum "
                                                      "of species; empty with no cells)"),
        (f"{OBSERVABLE}_sd", "float64", "molecules", "standard deviation over living cells of that observable"),
    ]),
    *_table("cells", [
        ("time_h", "float64", "h", "snapshot time"),
        ("cell_id", "int64", "–", "the Mesa `unique_id`; never reused"),
        ("x_um", "float64", "µm", "centre of the cell's site, along the width"),
        ("y_um", "float64", "µm", "centre of the cell's site, along the height"),
        ("state", "category", "–", "`precursor`, `preosteoclast` (TRAP⁺ mononuclear), `multinucleated` (≥ 2 "
                                   "nuclei, fewer than `osteoclasts.min_nuclei`) or `osteoclast`", STATES),
        ("nuclei", "int64", "nuclei", "1 for a mononuclear cell, the sum of its partners' after fusion"),
        ("resorption_mode", "category", "–", "`none` (mononuclear, or multinucleated before its first mode), "
                                             "`migrating`, `pit` or `trench`", RESORPTION_MODES),
        ("generation", "int64", "count", "divisions since plating along the cell's lineage"),
        ("born_h", "float64", "h", "time the cell was born (0 for plated cells)"),
        _ng_ml("mcsf_ng_ml", "M-CSF at the cell's site"),
        _ng_ml("rankl_free_ng_ml", "free RANKL at the cell's site"),
        (OBSERVABLE, "int64", "molecules", "a network observable: the sum of its species in the cell, in the "
                                           "network's scaling"),
        (COUNTER, "int64", "events", "firings of a counted reaction in the cell since it was born (its partners' "
                                     "added on fusion)"),
    ]),
    *_table("events", [
        ("time_h", "float64", "h", "end of the tick in which it happened"),
        ("event", "category", "–", "`division`, `death`, `fusion`, `extrusion` (a multinucleated cell sheds "
                                   "apoptotic nuclei and lives on), `recruitment` (a cell from a marrow pool "
                                   "settles on the surface), `egress` (an osteoclast precursor leaves the "
                                   "surface for the marrow pool), `flattening` (a matrix-making osteoblast "
                                   "becomes a quiescent lining cell), `lifting` (a lining cell lifts off the "
                                   "surface into the canopy), `settling` (a canopy cell settles back as a lining "
                                   "cell where the canopy has gone), `descent` (a canopy cell comes down onto "
                                   "eroded surface as a reversal cell) or `embedding` (an osteoblast is buried "
                                   "in matrix and becomes an osteocyte)", EVENTS),
        ("cell_id", "int64", "–", "the mother (division), the dying cell (death), the survivor (fusion), the "
                                  "shedding cell (extrusion), the "
                                  "newcomer (recruitment), the leaving precursor (egress), the flattening "
                                  "osteoblast, the lining cell (lifting or settling), the reversal cell (descent) "
                                  "or the buried osteoblast (embedding)"),
        ("partner_id", "Int64", "–", "the daughter (division) or the absorbed cell (fusion); empty otherwise"),
        ("nuclei", "int64", "nuclei", "nuclei of `cell_id` after the event: 1 after a division, the dying cell's, "
                                      "the fused cell's, the nuclei kept after an extrusion"),
        ("generation", "int64", "count", "generation of `cell_id` after the event: after a division both cells', "
                                         "the dying cell's, the survivor's"),
        ("age_h", "float64", "h", "death, egress, flattening or embedding: time since the cell was born; empty for "
                                  "other events"),
        ("lineage", "category", "–", "the lineage of `cell_id`: `osteoclast` or `osteoblast`", LINEAGES),
    ]),
    *_table("osteoclasts", [
        ("osteoclast_id", "int64", "–", "its cell id"),
        ("formed_h", "float64", "h", "time it reached `osteoclasts.min_nuclei` nuclei"),
        ("died_h", "float64", "h", "time it died or fused into another osteoclast; empty while alive"),
        ("fate", "category", "–", "`apoptosis`, `fused` into another osteoclast, or `alive` at the end", FATES),
        ("max_nuclei", "int64", "nuclei", "the most nuclei it had"),
        ("resorbed_um3", "float64", "µm³", "mineral it removed, measured from the depth maps it changed"),
        ("collagen_removed_um3", "float64", "µm³", "collagen it removed"),
        ("distance_um", "float64", "µm", "path moved while multinucleated"),
    ]),
    *_table("osteoclast_days", [
        ("osteoclast_id", "int64", "–", "its cell id, as in `osteoclasts.csv`"),
        ("day", "int64", "day", "day of the run, floor(t / 24 h): a tick from t0 to t1 counts in the day of t0, "
                                "the bone removed in the tick it formed in in the day of `formed_h`"),
        ("alive_h", "float64", "h", "time that day as an osteoclast, in whole ticks; summed over its days, "
                                    "`died_h` − `formed_h` (or the end − `formed_h`)"),
        ("nuclei", "int64", "nuclei", "nuclei at the end of the day, or at its last tick before it died or fused"),
        ("max_nuclei", "int64", "nuclei", "the most nuclei it had that day"),
        ("resorbed_um3", "float64", "µm³", "mineral it removed that day, as the bone recorded it (summed over its "
                                           "days: `resorbed_um3` of `osteoclasts.csv`)"),
        ("collagen_removed_um3", "float64", "µm³", "collagen it removed that day (summed: `collagen_removed_um3`)"),
        ("pit_h", "float64", "h", "time that day resorbing in a pit (`resorption_mode` `pit`)"),
        ("trench_h", "float64", "h", "time that day resorbing along a trench (`trench`)"),
        ("migrating_h", "float64", "h", "time that day migrating, not resorbing (`migrating`); `alive_h` "
                                          "beyond the three modes: ticks before its first mode"),
    ]),
    *_table("bone", [
        ("x_um", "float64", "µm", "pixel centre, along the width"),
        ("y_um", "float64", "µm", "pixel centre, along the height"),
        ("mineral_depth_um", "float64", "µm", "depth of mineral removed"),
        ("collagen_depth_um", "float64", "µm", "depth of collagen removed (never deeper than mineral)"),
        ("formed_um", "float64", "µm", "new matrix laid down on the pixel by osteoblasts (refills the eroded "
                                       "depth)"),
        ("osteoid_um", "float64", "µm", "of it, osteoid: younger than the mineralisation lag"),
        ("mineral_fraction", "float64", "1", "mean mineral fraction of the new matrix (0 where none)"),
        ("formed_h", "float64", "h", "when formation began on the pixel; empty where none"),
        ("cement_um", "float64", "µm", "cement line reversal cells laid on the pixel (since its last resorption, if "
                                      "any); osteoid goes only onto a complete one"),
        ("resorbed_h", "float64", "h", "when the pixel last lost mineral; empty if never"),
    ]),
    *_table("bmus", [
        ("bmu_id", "int64", "–", "the activation's index in `osteocytes.activations`"),
        ("activated_h", "float64", "h", "when its osteocytes died"),
        ("resorption_end_h", "float64", "h", "the last tick bone was removed in its region (so far, if the run ended "
                                             "first); empty if none was"),
        ("formation_start_h", "float64", "h", "the first tick matrix was laid down in its region; empty if none was"),
        ("formation_end_h", "float64", "h", "the last tick matrix was laid down in its region (so far)"),
        ("reversal_h", "float64", "h", "reversal: median over the region's rebuilt eroded pixels of the time from "
                                       "a pixel's last resorption to its first new matrix; empty before any"),
        ("erosion_depth_um", "float64", "µm", "mean depth of the region's eroded pixels"),
        ("wall_thickness_um", "float64", "µm", "mean thickness of new matrix where the region was rebuilt"),
        ("resorbed_um3", "float64", "µm³", "mineral removed in the region"),
        ("formed_um3", "float64", "µm³", "matrix laid down in the region"),
        ("max_osteoclasts", "int64", "cells", "most osteoclasts on the region at once (at a tick's end)"),
        ("max_osteoblasts", "int64", "cells", "most matrix-making (committed, not lining) osteoblasts on it at once"),
    ]),
]

def registry(table: str) -> list[Column]:
    """The table's entries in file order, patterns unexpanded."""
    if table not in TABLES:
        raise KeyError(f"no table {table!r}; tables: {', '.join(TABLES)}")
    return [c for c in REGISTRY if c.table == table]


def network_names(network) -> tuple[dict[str, list[str]], dict[str, str]]:
    """A compiled network's observables (name -> species) and counters (name -> reaction)."""
    return dict(network.spec.observables), dict(network.spec.counters)


def expand(table: str, observables: Mapping[str, list[str]] | None = None,
           counters: Mapping[str, str] | None = None) -> list[Column]:
    """The table's concrete columns for a network's observables and counters, in file order; consecutive
    pattern entries of one kind are interleaved per name (``cfos_mean``, ``cfos_sd``, ``nfatc1_mean``, ...)."""
    named = {OBSERVABLE: dict(observables or {}), COUNTER: dict(counters or {})}
    what = {OBSERVABLE: lambda parts: f"observable `{{name}}` = {' + '.join(parts)}",
            COUNTER: lambda reaction: f"counter `{{name}}` of reaction `{reaction}`"}
    entries, columns, i = registry(table), [], 0
    while i < len(entries):
        placeholder = entries[i].placeholder
        if placeholder is None:
            columns.append(entries[i])
            i += 1
            continue
        group = [entries[i]]
        while i + len(group) < len(entries) and entries[i + len(group)].placeholder == placeholder:
            group.append(entries[i + len(group)])
        for name, detail in named[placeholder].items():
            label = what[placeholder](detail).format(name=name)
            columns.extend(replace(c, name=c.name.replace(placeholder, name), meaning=f"{c.meaning}: {label}")
                           for c in group)
        i += len(group)
    names = [c.name for c in columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"{table}: the network's observables or counters give columns the table already has: "
                         f"{', '.join(duplicated)}")
    return columns


def names(table: str, observables=None, counters=None) -> list[str]:
    return [c.name for c in expand(table, observables, counters)]


def dtypes(table: str, observables=None, counters=None) -> dict:
    return {c.name: c.pandas_dtype for c in expand(table, observables, counters)}


def dictionary(observables=None, counters=None) -> pd.DataFrame:
    """The data dictionary of a run's tables (``columns.csv``): table, column, dtype, unit, meaning."""
    return pd.DataFrame([{"table": c.table, "column": c.name, "dtype": c.dtype, "unit": c.unit,
                          "meaning": c.meaning} for table in TABLES for c in expand(table, observables, counters)],
                         columns=["table", "column", "dtype", "unit", "meaning"])


def markdown_table(table: str, indent: str = "  ") -> str:
    """The README's table of ``table``'s columns, one row per registry entry."""
    lines = ["| column | dtype | unit | meaning |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.dtype} | {c.unit} | {c.meaning} |" for c in registry(table)]
    return "\n".join(indent + line for line in lines)


if __name__ == "__main__":  # the README's column tables, to paste after changing the registry
    for name in TABLES:
        print(f"{name}\n\n{markdown_table(name)}\n")
