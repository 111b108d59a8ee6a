"""SSA throughput on the RANK network: the numba kernel against a plain-Python direct method, in one run.

    .venv/bin/python benchmarks/ssa_throughput.py

Measures, from cells in the amplified state (72 h of M-CSF 30 + RANKL 50 ng/mL), with the kernel generated
for the network (and the generic one for comparison):
  one cell, one long kernel call             events/s on one core
  10,000 cells advanced tick by tick (0.1 h) events/s with 1 thread and with 2 threads; generic, 1 thread
  plain-Python direct method, same network   events/s, and the kernel's speed-up over it
and the default assay's events per cell-hour (the agent model, M-CSF 30 + RANKL 50 ng/mL, 72 h, 1 x 1 mm).
Each timing is the median of 5 repeats; the machine is shared, so read the ratios.
"""

from __future__ import annotations

import math
import random
import time
from statistics import median

import numba
import numpy as np

from boneabm.signaling import load_network
from boneabm.signaling.perturbations import PerturbationSchedule
from boneabm.signaling.simulate import CellBatch, input_matrix
from boneabm.signaling.ssa import advance
from boneabm.units import MCSF_HOMODIMER_DA, RANKL_MONOMER_DA, ng_ml_to_nM

ASSAY = {"rankl_nM": ng_ml_to_nM(50, RANKL_MONOMER_DA), "mcsf_nM": ng_ml_to_nM(30, MCSF_HOMODIMER_DA),
         "itam_ligand": 1.0}


_AMPLIFIED = {}


def amplified_batch(network, n_cells, seed=1):
    """``n_cells`` cells in the state of 72 h in the assay (500 simulated, repeated), with fresh streams."""
    effect = PerturbationSchedule(network).at(0.0)
    if "X" not in _AMPLIFIED:
        source = CellBatch(network, 500, seed)
        U500 = input_matrix(network, ASSAY, 500)
        for _ in range(72):
            source.step(1.0, U500, np.ones(500), effect)
        _AMPLIFIED["X"] = source.X
    batch = CellBatch(network, n_cells, seed + 1)
    batch.X = np.ascontiguousarray(np.resize(_AMPLIFIED["X"], (n_cells, network.n_species)))
    return batch, input_matrix(network, ASSAY, n_cells), np.ones(n_cells), effect


def kernel_rate(network, n_cells, dt_h, n_calls, threads, kernel=None):
    """Median events/s over 5 repeats; ``kernel`` None is the one generated for the network (ssa.advance: the
    generic one)."""
    numba.set_num_threads(threads)
    batch, U, V, effect = amplified_batch(network, n_cells)
    rates = []
    for _ in range(5):
        before = batch.events_per_cell.sum()
        start = time.perf_counter()
        for _ in range(n_calls):
            batch.step(dt_h, U, V, effect, kernel=kernel)
        rates.append((batch.events_per_cell.sum() - before) / (time.perf_counter() - start))
    return median(rates)


def python_direct_method(network, x, inputs, hours, rng):
    """Gillespie's direct method in plain Python on the same compiled network: the baseline."""
    a = network.arrays
    n_r = len(a.rate_constant)
    base = []
    for j in range(n_r):
        b = a.rate_constant[j]
        for m in range(a.modifier_ptr[j], a.modifier_ptr[j + 1]):
            kind = a.modifier_kind[m]
            if kind < 3:
                continue
            v, K, n = inputs[a.modifier_index[m]], a.modifier_K[m], a.modifier_n[m]
            if kind == 3:
                b *= v
            elif kind == 4:
                b *= v**n / (K**n + v**n)
            elif kind == 5:
                b *= K**n / (K**n + v**n)
        base.append(float(b))

    def propensity(j):
        p = base[j]
        for q in range(a.reactant_ptr[j], a.reactant_ptr[j + 1]):
            c = x[a.reactant_species[q]]
            p *= c if a.reactant_order[q] == 1 else c * (c - 1)
        for m in range(a.modifier_ptr[j], a.modifier_ptr[j + 1]):
            kind = a.modifier_kind[m]
            if kind >= 3:
                continue
            c = float(x[a.modifier_index[m]])
            if kind == 0:
                p *= c
            else:
                cn, Kn = c ** a.modifier_n[m], a.modifier_K[m] ** a.modifier_n[m]
                p *= cn / (Kn + cn) if kind == 1 else Kn / (Kn + cn)
        return p

    t, events = 0.0, 0
    while True:
        props = [propensity(j) for j in range(n_r)]
        total = sum(props)
        if total <= 0:
            return events
        t += -math.log(1.0 - rng.random()) / total
        if t >= hours:
            return events
        target, j, acc = rng.random() * total, 0, props[0]
        while acc <= target and j < n_r - 1:
            j += 1
            acc += props[j]
        for q in range(a.change_ptr[j], a.change_ptr[j + 1]):
            x[a.change_species[q]] += a.change_delta[q]
        events += 1


def python_rate(network):
    batch, U, _, _ = amplified_batch(network, 1)
    rates = []
    for repeat in range(5):
        x = [int(v) for v in batch.X[0]]
        start = time.perf_counter()
        events = python_direct_method(network, x, list(U[0]), 2.0, random.Random(repeat))
        rates.append(events / (time.perf_counter() - start))
    return median(rates)


def assay_events_per_cell_hour():
    import tempfile
    from pathlib import Path

    import boneabm

    with tempfile.TemporaryDirectory() as tmp:
        result = boneabm.run({"seed": 1, "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": 50},
                              "domain": {"width_um": 1000, "height_um": 1000}, "time": {"duration_h": 72}},
                             out=Path(tmp) / "run")
    return result.metadata["ssa"]


def main() -> None:
    network = load_network("rank")
    kernel_rate(network, 16, 0.1, 2, 1)  # compile or load the cache before timing
    one_cell = kernel_rate(network, 1, 200.0, 1, 1)
    serial = kernel_rate(network, 10_000, 0.1, 10, 1)
    generic = kernel_rate(network, 10_000, 0.1, 10, 1, kernel=advance)
    parallel = kernel_rate(network, 10_000, 0.1, 10, 2)
    plain = python_rate(network)
    ssa = assay_events_per_cell_hour()
    print(f"{'case':<44} {'events/s':>14}")
    print(f"{'one cell, one 200-h call (1 core)':<44} {one_cell:>14,.0f}")
    print(f"{'10,000 cells, ticks of 0.1 h, 1 thread':<44} {serial:>14,.0f}")
    print(f"{'10,000 cells, ticks of 0.1 h, 2 threads':<44} {parallel:>14,.0f}")
    print(f"{'10,000 cells, 1 thread, generic kernel':<44} {generic:>14,.0f}")
    print(f"{'plain-Python direct method, one cell':<44} {plain:>14,.0f}")
    print(f"generated / generic kernel (1 thread): {serial / generic:.2f}x")
    print(f"2 threads / 1 thread: {parallel / serial:.2f}x; kernel (1 thread, 10k cells) / plain Python: "
          f"{serial / plain:.0f}x; one cell / plain Python: {one_cell / plain:.0f}x")
    print(f"default assay (M-CSF 30 + RANKL 50 ng/mL, 72 h): {ssa['events_per_cell_hour']:.0f} events per "
          f"cell-hour; top reactions: " + ", ".join(f"{k} {v / ssa['cell_hours']:.0f}"
                                                    for k, v in list(ssa["top_reactions"].items())[:5]))


if __name__ == "__main__":
    main()
