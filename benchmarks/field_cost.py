"""Cost of one field update (binding + transport of M-CSF, RANKL, OPG, the antibody and both complexes) per tick,
on 100², 300² and 1000² grids, beside the signaling kernel's cost per tick at the default domain size.

    .venv/bin/python benchmarks/field_cost.py

Medians of repeated ticks; the machine is shared, so read the ratios.
"""

from __future__ import annotations

import time
from statistics import median

from boneabm.config import load_experiment
from boneabm.environment.fields import Fields
from boneabm.model import BoneModel


def field_tick_ms(n_sites: int, repeats: int) -> float:
    side = n_sites * 25.0
    e = load_experiment(data={"seed": 1, "domain": {"width_um": side, "height_um": side},
                              "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": 50, "opg_ng_ml": 100},
                              "precursors": {"plating_density_per_cm2": 0}})
    fields = Fields(e)
    fields.step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fields.step()
        times.append(time.perf_counter() - start)
    return 1e3 * median(times)


def default_tick_split() -> tuple[float, float, int]:
    """Signaling and field time per tick (ms) in the default domain with RANKL, once confluent."""
    e = load_experiment(data={"seed": 1, "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": 50, "opg_ng_ml": 100}})
    model = BoneModel(e)
    for _ in range(720):  # 72 h: the culture is confluent and signaling
        model.step()
    spent = {"ssa": [], "fields": []}
    lineage = model.osteoclasts  # it calls the SSA kernel generated for its network
    kernel, step = lineage.advance, model.fields.step

    def timed(function, bucket):
        def wrapper(*args):
            start = time.perf_counter()
            out = function(*args)
            spent[bucket].append(time.perf_counter() - start)
            return out
        return wrapper

    lineage.advance = timed(kernel, "ssa")
    model.fields.step = timed(step, "fields")
    for _ in range(50):
        model.step()
    lineage.advance = kernel
    return 1e3 * median(spent["ssa"]), 1e3 * median(spent["fields"]), model.population.n_alive


def main() -> None:
    print(f"{'grid':>10} {'sites':>10} {'field tick ms':>14}")
    for n, repeats in ((100, 50), (300, 20), (1000, 5)):
        print(f"{n:>4} x {n:<4} {n * n:>10,} {field_tick_ms(n, repeats):>14.2f}")
    ssa_ms, fields_ms, cells = default_tick_split()
    print(f"default domain (80 x 80 sites, {cells} cells, RANKL 50 ng/mL, day 3): signaling {ssa_ms:.2f} ms, "
          f"fields {fields_ms:.2f} ms per tick: fields = {fields_ms / (ssa_ms + fields_ms):.0%} of the two")


if __name__ == "__main__":
    main()
