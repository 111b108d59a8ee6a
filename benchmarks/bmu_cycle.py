"""One BMU cycle of the shipped tissue experiment (`bmu`): wall time against the 5-minute target, SSA events per
cell-hour by lineage, cells at the peak, what the BMU did (bmus.csv's row) and its figures against the published
cancellous BMU (checks R1-R3: Eriksen 1986, Lips 1978, Kragstrup 1983, Agerbaek 1991, Parfitt 1994; fates:
Manolagas 2000).

    .venv/bin/python benchmarks/bmu_cycle.py                 # the whole experiment, once
    .venv/bin/python benchmarks/bmu_cycle.py --days 30 --repeats 3
    .venv/bin/python benchmarks/bmu_cycle.py --set 'osteocytes.activations=[{at_h: 2, x_um: 500, y_um: 500, radius_um: 230}]'

The model is built and stepped here (no tables written), so the time is the simulation's; quiescent cells
(lining cells, canopy cells, osteocytes, the marrow pools) fire no SSA events, so events per cell-hour are
reported over awake cells. The machine is shared: quote medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from boneabm.bmu_checks import (BANDS, DEEP_UM, cavity_floor, figures, nuclei_dying_with_their_cell,
                                 nuclei_joining_osteoclasts, within)
from boneabm.catalog import find
from boneabm.config import load_experiment, with_seed
from boneabm.model import BoneModel

TARGET_S = 300.0
DAILY = ("time_h", "n_osteoclasts", "nuclei_in_osteoclasts", "mar_um_per_d", "o_th_um", "matrix_formed_um3",
         "osteoblast_apoptoses_total", "osteocytes_embedded_total", "osteoblasts_flattened_total")


def one_cycle(days: float | None, seed: int, sets: list[str] = ()) -> dict:
    overrides = [*sets] + ([] if days is None else [f"time.duration_h={days * 24:g}"])
    experiment = with_seed(load_experiment(find("bmu").path, overrides=overrides), seed)
    start = time.perf_counter()
    model = BoneModel(experiment)
    peak = {"osteoclasts": 0, "osteoblasts": 0, "awake cells": 0, "nuclei in one osteoclast": 0}
    osteoblasts = model.lineages["osteoblast"]
    ticks_per_day = round(24 / experiment.time.dt_h)
    daily = []  # the timeseries columns the figures read (DAILY), at each day's end
    for tick in range(1, round(experiment.time.duration_h / experiment.time.dt_h) + 1):
        model.step()
        clast_counts = model.osteoclasts.counts()
        clasts = clast_counts["n_osteoclasts"]
        blast_counts = osteoblasts.counts()
        blasts = blast_counts["n_osteoblasts"]
        awake = sum(lineage.awake(lineage.population.rows).size for lineage in model.lineages.values())
        clast_rows = model.osteoclasts.population.rows
        largest = int(model.osteoclasts.population.nuclei[clast_rows].max()) if clast_rows.size else 0
        for key, value in (("osteoclasts", clasts), ("osteoblasts", blasts), ("awake cells", awake),
                           ("nuclei in one osteoclast", largest)):
            peak[key] = max(peak[key], value)
        if tick % ticks_per_day == 0:
            h = model.bone.histomorphometry(model.time_h, clasts, blasts)
            daily.append((model.time_h, clasts, clast_counts["nuclei_in_osteoclasts"], h["mar_um_per_d"],
                          h["o_th_um"], *(blast_counts[name] for name in DAILY[5:])))
    wall_s = time.perf_counter() - start
    lineages = {name: (lineage.ssa_events_total, lineage.cell_hours) for name, lineage in model.lineages.items()}
    bmu = model.bmus.rows(model.bone)[0]
    nuclei_gone = {"extruded": model.osteoclasts.nuclei_extruded_total,
                   "died with their multinucleated cell": nuclei_dying_with_their_cell(model.events)}
    return {"wall_s": wall_s, "days": experiment.time.duration_h / 24, "peak": peak, "lineages": lineages,
            "bmu": bmu, "floor": cavity_floor(model.bone.mineral_depth_um), "nuclei_gone": nuclei_gone,
            "figures": figures(pd.DataFrame(daily, columns=DAILY), bmu,
                               nuclei_joining_osteoclasts(*list(zip(*model.events))[:5],
                                                          experiment.osteoclasts.min_nuclei))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=None, help="simulate this many days (default: the config's)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override, as boneabm run --set (e.g. a larger activation, for more cells)")
    args = parser.parse_args()
    runs = [one_cycle(args.days, args.seed, args.set) for _ in range(args.repeats)]
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
    print("  osteoclast nuclei " + ", ".join(f"{key} {value}" for key, value in last["nuclei_gone"].items()))
    floor = last["floor"]
    print(f"  cavity floor: eroded pixels' depth {floor['depth_p10_um']:.1f} / {floor['depth_p50_um']:.1f} / "
          f"{floor['depth_p90_um']:.1f} µm (10th / 50th / 90th percentile); {floor['volume_deeper_share']:.0%} of the "
          f"resorbed volume deeper than {DEEP_UM:.0f} µm")
    print("  against the published cancellous BMU (last run; boneabm/bmu_checks.py):")
    for key, (figure, published, _) in BANDS.items():
        value = last["figures"][key]
        verdict = "within" if within(last["figures"], key) else "OUTSIDE"
        print(f"    {figure:46s} {value:8.3g}   published {published:32s} {verdict}")


if __name__ == "__main__":
    main()
