"""One BMU cycle of the shipped tissue experiment (`bmu`): wall time against the 5-minute target, SSA events per
cell-hour by lineage, cells at the peak, what the BMU did (bmus.csv's row) and its figures against the published
cancellous BMU (checks R1-R3: Eriksen 1986, Lips 1978, Kragstrup 1983, Agerbaek 1991, Parfitt 1994; fates:
Manolagas 2000).

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

import numpy as np

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
    ticks_per_day = round(24 / experiment.time.dt_h)
    daily = []  # (day, osteoclasts, their nuclei, MAR, O.Th, matrix formed, bone resorbed) at each day's end
    for tick in range(1, round(experiment.time.duration_h / experiment.time.dt_h) + 1):
        model.step()
        clast_counts = model.osteoclasts.counts()
        clasts = clast_counts["n_osteoclasts"]
        blasts = osteoblasts.counts()["n_osteoblasts"]
        awake = sum(lineage.awake(lineage.population.rows).size for lineage in model.lineages.values())
        for key, value in (("osteoclasts", clasts), ("osteoblasts", blasts), ("awake cells", awake)):
            peak[key] = max(peak[key], value)
        if tick % ticks_per_day == 0:
            h = model.bone.histomorphometry(model.time_h, clasts, blasts)
            daily.append((model.time_h / 24, clasts, clast_counts["nuclei_in_osteoclasts"], h["mar_um_per_d"],
                          h["o_th_um"], osteoblasts.matrix_um3_total,
                          float(model.bone.mineral_depth_um.sum() * model.bone.pixel_area_um2)))
    wall_s = time.perf_counter() - start
    lineages = {name: (lineage.ssa_events_total, lineage.cell_hours) for name, lineage in model.lineages.items()}
    return {"wall_s": wall_s, "days": experiment.time.duration_h / 24, "peak": peak, "lineages": lineages,
            "bmu": model.bmus.rows(model.bone)[0], "daily": np.array(daily, dtype=float),
            "fates": osteoblasts.fate_shares(), "joined": nuclei_joining_osteoclasts(model)}


def nuclei_joining_osteoclasts(model) -> np.ndarray:
    """(day, nuclei) of each fusion that left a cell with ≥ ``min_nuclei``: the nuclei the absorbed cell brought,
    read from the fusion events (each gives the fused cell's nuclei; a cell's count is its last fusion's)."""
    nuclei, joined = {}, []
    threshold = model.experiment.osteoclasts.min_nuclei
    for time_h, event, cell, partner, total, *_ in model.events:
        if event != "fusion":
            continue
        brought = total - nuclei.get(cell, 1)
        nuclei[cell] = total
        nuclei.pop(partner, None)
        if total >= threshold:
            joined.append((time_h / 24, brought))
    return np.array(joined, dtype=float).reshape(-1, 2)


def against_published(run: dict) -> list[tuple[str, str, str, bool]]:
    """(figure, this run, published, within it) for the checks a single BMU can make."""
    bmu, daily = run["bmu"], run["daily"]
    day, clasts, clast_nuclei, mar, oth, formed, resorbed = daily.T
    resorption_days = (bmu["resorption_end_h"] - bmu["activated_h"]) / 24
    forming = formed > 0
    first_formed = day[forming][0] if forming.any() else np.nan
    formed_90 = day[formed >= 0.9 * formed[-1]][0] if forming.any() else np.nan
    cutting = (day >= 5) & (day <= resorption_days)
    mar_forming = mar[(day > first_formed + 10) & (mar > 0)]
    fates = run["fates"]
    joined_day, brought = run["joined"].T
    in_cone = (joined_day >= 5) & (joined_day <= resorption_days)
    renewal = brought[in_cone].sum() / clast_nuclei[cutting].sum() if clast_nuclei[cutting].sum() else np.nan
    rows = [
        ("resorption, activation to its end (d)", f"{resorption_days:.0f}", "15-45", 15 <= resorption_days <= 45),
        ("erosion depth (µm)", f"{bmu['erosion_depth_um']:.1f}", "40-60 (30-80)", 30 <= bmu["erosion_depth_um"] <= 80),
        ("formation, first matrix to 90 % of it (d)", f"{formed_90 - first_formed:.0f}", "60-150",
         60 <= formed_90 - first_formed <= 150),
        ("wall thickness (µm)", f"{bmu['wall_thickness_um']:.1f}", "50-60 (40-70)", 40 <= bmu["wall_thickness_um"] <= 70),
        ("refilled (formed / resorbed)", f"{bmu['formed_um3'] / bmu['resorbed_um3']:.2f}", "≈ 1 (0.95-1.05 per BMU)",
         0.95 <= bmu["formed_um3"] / bmu["resorbed_um3"] <= 1.05),
        ("MAR, median over formation (µm/d)", f"{np.median(mar_forming):.2f}", "0.6-1.2 (0.4-1.5)",
         0.4 <= np.median(mar_forming) <= 1.5),
        ("osteoid seam, largest (µm)", f"{np.nanmax(oth):.1f}", "≤ 12.5", np.nanmax(oth) <= 12.5),
        ("osteoclasts at once, median while resorbing", f"{np.median(clasts[cutting]):.0f}", "5-15",
         5 <= np.median(clasts[cutting]) <= 15),
        ("osteoclast nuclei renewed per day, while resorbing", f"{renewal:.3f}", "≈ 0.08 (0.04-0.12)",
         0.04 <= renewal <= 0.12),
        ("osteoblast fates: apoptosis / osteocyte / lining",
         f"{fates['apoptosis']:.2f} / {fates['osteocyte']:.2f} / {fates['lining']:.2f}", "0.5-0.7 / 0.1-0.2 / rest",
         0.5 <= fates["apoptosis"] <= 0.7 and 0.1 <= fates["osteocyte"] <= 0.2),
    ]
    return rows


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
    print("  against the published cancellous BMU (last run):")
    for figure, measured, published, ok in against_published(last):
        print(f"    {figure:50s} {measured:>18s}   published {published:24s} {'within' if ok else 'OUTSIDE'}")


if __name__ == "__main__":
    main()
