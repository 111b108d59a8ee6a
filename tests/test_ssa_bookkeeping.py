"""What the SSA kernel keeps per call rather than per reaction or per cell gives each cell its own result: the
powers of a cell's volume (one per distinct volume exponent, shared by that exponent's reactions) and the
firings of counted reactions (counted per cell from a row per thread chunk). Cells of different volumes and
counts are mixed in one call, more than one to a chunk (the kernel deals at most 64 chunks), so a power or a
count carried from one cell to the next shows.
"""

import numpy as np
import pytest

from boneabm.rng import seed_streams
from boneabm.signaling import network_from_dict
from boneabm.signaling.codegen import kernel
from boneabm.signaling.ssa import advance


def volume_network():
    """Zero-order synthesis (∝ volume), a dimerisation (∝ 1/volume) and first-order decays (volume-free)."""
    parameters = {"k_make": (40.0, "nM/h"), "k_pair": (0.05, "1/(nM*h)"), "d_A": (0.5, "1/h"), "d_B": (0.2, "1/h")}
    return network_from_dict({
        "name": "volumes", "cell_volume_pl": 1.0, "modules": {"m": {"molecules_per_nM": 10.0}},
        "species": {"A": {"module": "m", "initial": 5}, "B": {"module": "m", "initial": 0}},
        "parameters": {k: {"value": v, "unit": u, "source": "test"} for k, (v, u) in parameters.items()},
        "reactions": [{"name": "make", "products": {"A": 1}, "k": "k_make"},
                      {"name": "pair", "reactants": {"A": 2}, "products": {"B": 1}, "k": "k_pair"},
                      {"name": "decay_A", "reactants": {"A": 1}, "k": "d_A"},
                      {"name": "decay_B", "reactants": {"B": 1}, "k": "d_B"}],
        "counters": {"pairs": "pair"}})


def call(chosen, network, X, rng_state, rows, volume, rate_scale, dt_h=0.5):
    n = rows.size
    events, fired = np.zeros(n, dtype=np.int64), np.zeros(network.n_reactions, dtype=np.int64)
    counted = np.zeros((n, len(network.counters)), dtype=np.int64)
    chosen(X, rng_state, rows, volume, np.zeros((n, 0)), dt_h, rate_scale, np.zeros(network.n_species, np.bool_),
           network.arrays, events, fired, network.counted_reactions, counted, np.zeros((n, 0)))
    return events, fired, counted


@pytest.mark.parametrize("generated", [True, False], ids=["generated kernel", "generic kernel"])
def test_each_cell_gets_its_own_volume_and_counts(generated):
    """A cell of volume V is the same process as a unit cell with synthesis × V and dimerisation ÷ V (exact
    in floating point for V = 1, 2, 4): advanced together in one call, each matches its unit twin advanced
    alone, firing for firing, and the per-cell counts add up to the per-reaction totals."""
    network = volume_network()
    chosen = kernel(network) if generated else advance
    n = 200  # > 64 chunks: three or four cells of mixed volumes to a chunk
    volumes = np.resize([1.0, 2.0, 4.0, 2.0, 1.0], n)
    X0 = np.tile(network.draw_initial(1, np.random.default_rng(0)), (n, 1))
    rng0 = np.zeros((n, 4), dtype=np.uint64)
    seed_streams(np.uint64(3), np.arange(1, n + 1, dtype=np.int64), rng0, np.arange(n, dtype=np.int64))

    X, rng_state = X0.copy(), rng0.copy()
    events, fired, counted = call(chosen, network, X, rng_state, np.arange(n), volumes, np.ones(network.n_reactions))
    assert events.sum() > 20_000 and len(set(counted[:, 0].tolist())) > 10
    assert counted.sum() == fired[network.counted_reactions].sum() and fired.sum() == events.sum()

    for v in (1.0, 2.0, 4.0):
        twins = np.flatnonzero(volumes == v)
        Xt, rng_t = X0.copy(), rng0.copy()
        scale = np.array([v, 1.0 / v, 1.0, 1.0])  # make, pair, decay_A, decay_B
        events_t, _, counted_t = call(chosen, network, Xt, rng_t, twins, np.ones(twins.size), scale)
        assert np.array_equal(Xt[twins], X[twins]) and np.array_equal(rng_t[twins], rng_state[twins])
        assert np.array_equal(events_t, events[twins]) and np.array_equal(counted_t, counted[twins])
