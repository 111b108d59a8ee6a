"""A standalone network simulator, like a small GillesPy2: N independent cells, given inputs, sampled times.

    from boneabm.signaling import load_network, simulate
    frame = simulate(load_network("rank"), n_cells=100, times_h=[0, 1, 24, 48],
                     inputs={"rankl_nM": 2.5, "mcsf_nM": 0.8, "itam_ligand": 1.0}, seed=1)

returns a tidy DataFrame (``cell_id``, ``time_h``, one column per species, then one per counter: the firings
of a counted reaction so far); ``frame.attrs["events"]`` holds the events fired per reaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from boneabm.errors import UserError
from boneabm.rng import seed_streams
from boneabm.signaling.perturbations import Perturbation, PerturbationSchedule
from boneabm.signaling.codegen import kernel as codegen_kernel

if TYPE_CHECKING:  # only named in annotations: network.py runs this module's solver to order its search
    from boneabm.signaling.network import Network


class CellBatch:
    """Molecule counts and random streams of N independent cells, advanced by the SSA kernel."""

    def __init__(self, network: Network, n_cells: int, seed: int, initial: np.ndarray | None = None):
        self.network = network
        self.kernel = codegen_kernel(network)
        self.cell_id = np.arange(1, n_cells + 1, dtype=np.int64)
        self.rng_state = np.zeros((n_cells, 4), dtype=np.uint64)
        self.rows = np.arange(n_cells, dtype=np.int64)
        seed_streams(np.uint64(seed), self.cell_id, self.rng_state, self.rows)
        self.X = (network.draw_initial(n_cells, np.random.default_rng([seed, 0x5157]))
                  if initial is None else np.array(initial, dtype=np.int64).reshape(n_cells, -1))
        self.events_per_reaction = np.zeros(network.n_reactions, dtype=np.int64)
        self.events_per_cell = np.zeros(n_cells, dtype=np.int64)
        self.consumed = np.zeros((n_cells, len(network.inputs)))
        self.counters = np.zeros((n_cells, len(network.counters)), dtype=np.int64)

    def step(self, dt_h: float, inputs: np.ndarray, volume: np.ndarray, effect, kernel=None) -> None:
        """Advance every cell by ``dt_h`` with ``kernel`` (default: the one generated for the network;
        ``ssa.advance``, the generic one, gives the same results)."""
        kernel = kernel or self.kernel
        n = self.rows.size
        effect.apply_clamps(self.X, self.rows, volume)
        events = np.zeros(n, dtype=np.int64)
        fired = np.zeros(self.network.n_reactions, dtype=np.int64)
        counted = np.zeros((n, len(self.network.counters)), dtype=np.int64)
        consumed = np.zeros((n, len(self.network.inputs)))
        kernel(self.X, self.rng_state, self.rows, volume, inputs, dt_h, effect.rate_scale, effect.clamped,
               self.network.arrays, events, fired, self.network.counted_reactions, counted, consumed)
        self.events_per_cell += events
        self.events_per_reaction += fired
        self.consumed += consumed
        self.counters[self.rows] += counted


def input_matrix(network: Network, inputs: Mapping[str, float | Sequence[float]] | None, n_cells: int) -> np.ndarray:
    """Inputs as an (n_cells, n_inputs) array; every input must be given, none unknown."""
    inputs = dict(inputs or {})
    unknown = sorted(set(inputs) - set(network.inputs))
    missing = [name for name in network.inputs if name not in inputs]
    if unknown or missing:
        raise UserError(f"inputs: unknown {unknown} / missing {missing}; network {network.spec.name!r} takes "
                        f"{', '.join(network.inputs)}")
    U = np.zeros((n_cells, len(network.inputs)))
    for i, name in enumerate(network.inputs):
        value = np.broadcast_to(np.asarray(inputs[name], dtype=float), (n_cells,))
        if np.any(value < 0) or not np.all(np.isfinite(value)):
            raise UserError(f"inputs: {name} must be finite and non-negative")
        U[:, i] = value
    return U


def firing_frequency_order(network: Network, inputs: Mapping[str, float], n_cells: int = 32,
                           hours: float = 72.0) -> np.ndarray:
    """Reactions by decreasing firing count in a short, fixed-seed simulation at ``inputs`` (ties by index)."""
    frame = simulate(network, n_cells, [hours], inputs=inputs, seed=0)
    counts = np.array([frame.attrs["events"][name] for name in network.reactions])
    return np.lexsort((np.arange(counts.size), -counts)).astype(np.int64)


def simulate(network: Network, n_cells: int, times_h: Sequence[float],
             inputs: Mapping[str, float | Sequence[float]] | None = None, seed: int = 0,
             volume: float | Sequence[float] = 1.0, perturbations: Sequence[Perturbation] = (),
             initial: np.ndarray | None = None, max_step_h: float | None = None) -> pd.DataFrame:
    """Simulate ``n_cells`` independent cells and sample their counts at ``times_h`` (ascending, >= 0).

    Inputs are held constant; ``perturbations`` switch on and off at their times (the run is split there).
    ``max_step_h`` splits long intervals into kernel calls of at most that length, which changes nothing in
    distribution (the process is memoryless) but bounds the time between clamp re-applications.
    """
    times = np.asarray(times_h, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(times < 0) or np.any(np.diff(times) < 0):
        raise UserError("times_h: give ascending, non-negative times")
    batch = CellBatch(network, n_cells, seed, initial)
    U = input_matrix(network, inputs, n_cells)
    V = np.broadcast_to(np.asarray(volume, dtype=float), (n_cells,)).copy()
    schedule = PerturbationSchedule(network, perturbations)
    stops = sorted(set(times.tolist()) | set(schedule.edges(0.0, times[-1])))
    frames, now = [], 0.0
    for stop in stops:
        while stop - now > 1e-12:
            step = stop - now if max_step_h is None else min(max_step_h, stop - now)
            batch.step(step, U, V, schedule.at(now))
            now += step
        now = stop
        if stop in times:
            frames.append(_frame(batch, stop))
    frame = pd.concat(frames, ignore_index=True)
    frame.attrs["events"] = dict(zip(network.reactions, batch.events_per_reaction.tolist()))
    frame.attrs["events_per_cell"] = batch.events_per_cell.copy()
    return frame


def _frame(batch: CellBatch, time_h: float) -> pd.DataFrame:
    frame = pd.DataFrame(batch.X.copy(), columns=batch.network.species)
    for i, name in enumerate(batch.network.counters):
        frame[name] = batch.counters[:, i]
    frame.insert(0, "time_h", time_h)
    frame.insert(0, "cell_id", batch.cell_id)
    return frame
