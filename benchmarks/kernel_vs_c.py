"""boneabm's SSA kernels against a hand-tuned C direct method on the same network, side by side in one process.

    .venv/bin/python benchmarks/kernel_vs_c.py --reference DIR [--cells 2000] [--repeats 5]

``DIR`` holds the C reference (``build_reference.py``, ``ssa_c.c``, ``rank_ref.py``, ``rank_ref.yaml``: the
team's yardstick, a 13-species, 28-reaction network with a Ca2+ oscillator, kept outside the package). It builds
the C engine into a temporary directory with boneabm's own search order for ``rank_ref.yaml`` (needs gcc), puts
``--cells`` cells in one equilibrated state, and times, interleaved, each repeat advancing every cell by
``--minutes`` in ticks of ``--tick-min``:

  C reference (one thread)                      gcc -O3 -march=native, xoshiro256+, dependency graph
  boneabm generated kernel, 1 and 2 threads     boneabm.signaling.codegen, through CellBatch.step
  boneabm generic kernel, 1 thread              boneabm.signaling.ssa.advance, through CellBatch.step

and prints each median rate (events/s) and the ratios to C; targets (issue 15): generated >= 0.85x C on one
thread, 2 threads >= 1.8x one. The machine is shared: read the ratios, not the rates.
"""

from __future__ import annotations

import argparse
import ctypes
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numba
import numpy as np

from boneabm.signaling import codegen, load_network, ssa
from boneabm.signaling.perturbations import PerturbationSchedule
from boneabm.signaling.simulate import CellBatch, input_matrix

INPUTS = {"L": 2.0, "ITAM": 1.0}


def build_c(reference: Path, network, out: Path):
    order = ",".join(network.reactions[j] for j in network.arrays.search_order)
    subprocess.run([sys.executable, str(reference / "build_reference.py"), str(out), "--order", order], check=True,
                   stdout=subprocess.DEVNULL)
    lib = ctypes.CDLL(str(out / "ssa_ref.so"))
    lib.run_batch.restype = ctypes.c_int64
    lib.run_batch.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_double, ctypes.c_int64,
                              ctypes.c_uint64]
    return lib


def equilibrated(network, n_cells):
    """``n_cells`` copies of one cell's state after 30 simulated minutes (the Ca2+ oscillator running)."""
    one = CellBatch(network, 1, 7)
    one.step(0.5, input_matrix(network, INPUTS, 1), np.ones(1), PerturbationSchedule(network).at(0.0))
    return np.ascontiguousarray(np.repeat(one.X, n_cells, axis=0))


def time_c(lib, X0, tick_min, n_ticks, seed):
    X = X0.copy()
    T = np.zeros(X.shape[0])
    start = time.perf_counter()
    events = lib.run_batch(X.ctypes.data, X.shape[0], T.ctypes.data, tick_min, n_ticks, seed)
    return events / (time.perf_counter() - start)


def time_boneabm(network, kernel, X0, tick_min, n_ticks, seed, threads):
    numba.set_num_threads(threads)
    batch = CellBatch(network, X0.shape[0], seed, initial=X0)
    U, V = input_matrix(network, INPUTS, X0.shape[0]), np.ones(X0.shape[0])
    effect = PerturbationSchedule(network).at(0.0)
    start = time.perf_counter()
    for _ in range(n_ticks):
        batch.step(tick_min / 60.0, U, V, effect, kernel=kernel)
    return batch.events_per_cell.sum() / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="directory of the C reference engine")
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--tick-min", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    network = load_network(args.reference / "rank_ref.yaml")
    X0 = equilibrated(network, args.cells)
    n_ticks = max(1, round(args.minutes / args.tick_min))
    generated = codegen.kernel(network)
    with tempfile.TemporaryDirectory() as tmp:
        lib = build_c(args.reference, network, Path(tmp))
        for kernel in (generated, ssa.advance):  # compile (or load numba's cache) before timing
            time_boneabm(network, kernel, X0[:4], args.tick_min, 1, 1, 1)
        rates = {"C": [], "generated 1 thread": [], "generated 2 threads": [], "generic 1 thread": []}
        for rep in range(args.repeats):
            rates["C"].append(time_c(lib, X0, args.tick_min, n_ticks, rep + 1))
            rates["generated 1 thread"].append(time_boneabm(network, generated, X0, args.tick_min, n_ticks, rep + 1, 1))
            rates["generated 2 threads"].append(time_boneabm(network, generated, X0, args.tick_min, n_ticks, rep + 1,
                                                             2))
            rates["generic 1 thread"].append(time_boneabm(network, ssa.advance, X0, args.tick_min, n_ticks, rep + 1, 1))
    med = {name: median(values) for name, values in rates.items()}
    print(f"rank_ref ({network.n_reactions} reactions), {args.cells} cells, {args.minutes:g} min in ticks of "
          f"{args.tick_min:g} min, median of {args.repeats} interleaved repeats")
    print(f"{'engine':<24} {'events/s':>14} {'x C':>7}")
    for name, rate in med.items():
        print(f"{name:<24} {rate:>14,.0f} {rate / med['C']:>7.2f}")
    print(f"generated / C (1 thread): {med['generated 1 thread'] / med['C']:.2f} (target >= 0.85); "
          f"2 threads / 1 thread: {med['generated 2 threads'] / med['generated 1 thread']:.2f} (target >= 1.8); "
          f"generated / generic: {med['generated 1 thread'] / med['generic 1 thread']:.2f}")


if __name__ == "__main__":
    main()
