"""One BMU cycle of the shipped tissue experiment (`bmu`): wall time against the 5-minute target, SSA events per
cell-hour by lineage, cells at the peak, and what the BMU did (bmus.csv's row).

    .venv/bin/python benchmarks/bmu_cycle.py                 # the whole experiment, once
    .venv/bin/python benchmarks/bmu_cycle.py --days 30 --repeats 3

The model is built and stepped here (no tables written), so the time is the simulation's; quiescent cells
(lining cells, canopy cells, osteocytes, the marrow pools) fire no SSA events, so events per cell-hour are
reported over awake cells. The machine is shared: quote medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

from boneabm.catalog import find
from boneabm.config import load_experiment, with_seed
from boneabm.model import BoneModel

TARGET_S = 300.0


def one_cycle(days: float | None, seed: int) -> dict:
    overrides = [] if days is None else [f"time.duration_h={days * 24:g}"]
    experiment = with_seed(load_experiment(find("bmu").path, overrides=overrides), seed)
    start = time.perf_counter()
    model = BoneModel(experiment)
    peak = {"osteoclasts": 0, "osteoblasts": 0, "awake cells": 0}
    osteoblasts = model.lineages["osteoblast"]
    for _ in range(round(experiment.time.duration_h / experiment.time.dt_h)):
        model.step()
        clasts = model.osteoclasts.counts()["n_osteoclasts"]
        blasts = osteoblasts.counts()["n_osteoblasts"]
        awake = sum(lineage.awake(lineage.population.rows).size for lineage in model.lineages.values())
        for key, value in (("osteoclasts", clasts), ("osteoblasts", blasts), ("awake cells", awake)):
            peak[key] = max(peak[key], value)
    wall_s = time.perf_counter() - start
    lineages = {name: (lineage.ssa_events_total, lineage.cell_hours) for name, lineage in model.lineages.items()}
    return {"wall_s": wall_s, "days": experiment.time.duration_h / 24, "peak": peak, "lineages": lineages,
            "bmu": model.bmus.rows(model.bone)[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=None, help="simulate this many days (default: the config's)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    runs = [one_cycle(args.days, args.seed) for _ in range(args.repeats)]
    wall = statistics.median(r["wall_s"] for r in runs)
    last = runs[-1]
    print(f"bmu: {last['days']:.0f} simulated days, wall {wall:.1f} s (median of {len(runs)}); "
          f"target < {TARGET_S:.0f} s for a whole cycle: {'met' if wall < TARGET_S else 'NOT met'} "
          f"({wall / TARGET_S:.2f} of it)")
    print(f"  per simulated day: {wall / last['days']:.2f} s")
    for name, (events, cell_hours) in last["lineages"].items():
        rate = events / cell_hours if cell_hours else float("nan")
        print(f"  {name:10s} SSA events {events:,d} over {cell_hours:,.0f} awake cell-hours: {rate:,.0f} per cell-hour")
    print("  peak: " + ", ".join(f"{key} {value}" for key, value in last["peak"].items()))
    print("  bmu: " + ", ".join(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                                for key, value in last["bmu"].items()))


if __name__ == "__main__":
    main()
