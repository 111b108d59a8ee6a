"""Cost of the whole tick per cell per simulated hour at 1k, 10k and 100k precursors, where it goes, and memory.

    .venv/bin/python benchmarks/step_cost.py            # all sizes, each in its own process
    .venv/bin/python benchmarks/step_cost.py --sizes 1000 10000 --hours 10

Each size runs in a fresh process (so peak memory is its own), on a periodic domain plated at half confluence
with M-CSF 30 ng/mL (RANKL with --rankl), after one warm-up tick (numba compiled or loaded from cache). The
tick is split into:
  ssa      the signaling kernel (every cell's network advanced by one tick)
  kernels  per-cell random draws, fate decisions, site claiming, molecule splitting at division (numba)
  mesa     agent creation, removal and moves (Mesa's agent registry and grid cells)
  glue     the rest of the Python in the tick (masks, loops, medium)
Medians over blocks of simulated hours; the machine is shared and noisy, so compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from statistics import median


def measure(n_cells: int, hours: float, rankl_ng_ml: float) -> dict:
    import math

    import boneabm.cells.lineage as lineage_module
    import boneabm.cells.osteoclast.lineage as osteoclast_module
    import boneabm.model as model_module
    from boneabm.cells.osteoclast.lineage import LineageCell
    from boneabm.config import load_experiment

    spacing = 25.0
    sites_per_side = math.ceil(math.sqrt(2 * n_cells))  # half confluence
    side_um = sites_per_side * spacing
    density = n_cells / (side_um**2 / 1e8)
    experiment = load_experiment(data={
        "seed": 1, "time": {"duration_h": hours, "dt_h": 0.1},
        "domain": {"width_um": side_um, "height_um": side_um, "grid_spacing_um": spacing},
        "precursors": {"plating_density_per_cm2": density},
        "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": rankl_ng_ml}})

    spent = {"ssa": 0.0, "kernels": 0.0, "mesa": 0.0}

    def timed(function, bucket):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[bucket] += time.perf_counter() - start
        return wrapper

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    model = model_module.BoneModel(experiment)
    build_s = time.perf_counter() - start
    model.step()  # warm-up: kernels compiled or loaded from the cache

    for lineage in model.lineages.values():  # each lineage calls the SSA kernel generated for its network
        lineage.advance = timed(lineage.advance, "ssa")
    setattr(osteoclast_module, "draw_uniforms", timed(osteoclast_module.draw_uniforms, "kernels"))
    for name in ("claim_free_neighbours", "split_molecules"):  # called from the lineage base class's module
        setattr(lineage_module, name, timed(getattr(lineage_module, name), "kernels"))
    osteoclast_module.fates.decide = timed(osteoclast_module.fates.decide, "kernels")
    for name in ("die", "divide"):
        setattr(LineageCell, name, timed(getattr(LineageCell, name), "mesa"))
    setattr(osteoclast_module, "move", timed(osteoclast_module.move, "mesa"))

    blocks, cell_hours, shares = [], 0.0, []
    ticks_per_block = round(1.0 / experiment.time.dt_h)
    for _ in range(int(hours)):
        spent.update(ssa=0.0, kernels=0.0, mesa=0.0)
        n = model.population.n_alive
        start = time.perf_counter()
        for _ in range(ticks_per_block):
            model.step()
        wall = time.perf_counter() - start
        blocks.append(wall / n)  # seconds per cell per simulated hour
        cell_hours += n
        shares.append({k: v / wall for k, v in spent.items()})
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cells": model.population.n_alive,
        "sites": sites_per_side**2,
        "build_s": build_s,
        "us_per_cell_hour": 1e6 * median(blocks),
        "cell_hours_per_s": 1 / median(blocks),
        "ssa": median(s["ssa"] for s in shares),
        "kernels": median(s["kernels"] for s in shares),
        "ssa_events_per_cell_hour": model.ssa_events_total / model.cell_hours,
        "mesa": median(s["mesa"] for s in shares),
        "peak_rss_mb": rss_mb,
        "model_rss_mb": (rss_mb - rss_before / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--hours", type=float, default=6.0, help="simulated hours timed per size")
    parser.add_argument("--rankl", type=float, default=0.0, help="RANKL in the medium, ng/mL (default 0)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.hours, args.rankl)))
        return
    rows = []
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--hours", str(args.hours),
                              "--rankl", str(args.rankl)], capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"RANKL {args.rankl:g} ng/mL, M-CSF 30 ng/mL")
    print(f"{'cells':>8} {'sites':>8} {'build s':>8} {'µs/cell·h':>10} {'cell·h/s':>10} {'SSA ev/cell·h':>14} "
          f"{'ssa':>5} {'kernels':>8} {'mesa':>6} {'glue':>6} {'peak RSS MB':>12}")
    for r in rows:
        glue = 1 - r["ssa"] - r["kernels"] - r["mesa"]
        print(f"{r['cells']:>8} {r['sites']:>8} {r['build_s']:>8.2f} {r['us_per_cell_hour']:>10.2f} "
              f"{r['cell_hours_per_s']:>10.0f} {r['ssa_events_per_cell_hour']:>14.0f} {r['ssa']:>5.0%} "
              f"{r['kernels']:>8.0%} {r['mesa']:>6.0%} {glue:>6.0%} {r['peak_rss_mb']:>12.0f}")
    base = rows[0]["us_per_cell_hour"]
    print("cost per cell-hour relative to the smallest size: "
          + ", ".join(f"{r['cells']}: {r['us_per_cell_hour'] / base:.2f}x" for r in rows))


if __name__ == "__main__":
    main()
