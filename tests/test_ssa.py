"""The SSA kernel against exact results: stationary distributions, transients, the ODE limit, volume scaling,
reproducibility across threads and cell order, binomial division and perturbation windows.

Tolerances are 4 standard errors of the statistic at the stated number of cells.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from boneabm.signaling import Perturbation, network_from_dict, simulate
from boneabm.signaling.simulate import CellBatch
from boneabm.signaling.ssa import binomial, shed_molecules, split_molecules


def net(species, parameters, reactions, scale=10.0, inputs=None, **extra):
    return network_from_dict({
        "name": "test", "cell_volume_pl": 1.0, "modules": {"m": {"molecules_per_nM": scale}},
        "inputs": inputs or {}, "species": {s: {"module": "m", "initial": v} for s, v in species.items()},
        "parameters": {k: {"value": v, "unit": u, "source": "test"} for k, (v, u) in parameters.items()},
        "reactions": reactions, **extra})


BIRTH_DEATH = net({"A": 0}, {"k_syn": (20, "molecules/h"), "k_deg": (1, "1/h")},
                  [{"name": "syn", "products": {"A": 1}, "k": "k_syn"},
                   {"name": "deg", "reactants": {"A": 1}, "k": "k_deg"}])


def test_birth_death_is_poisson_at_steady_state_and_follows_its_transient():
    n = 4000
    frame = simulate(BIRTH_DEATH, n, [1.0, 20.0], seed=11)
    early, late = (frame.loc[frame.time_h == t, "A"] for t in (1.0, 20.0))
    # transient: the count at time t is Poisson with mean 20 (1 - e^-t)
    mean1 = 20 * (1 - np.exp(-1.0))
    assert abs(early.mean() - mean1) < 4 * np.sqrt(mean1 / n)
    assert abs(late.mean() - 20) < 4 * np.sqrt(20 / n)
    # variance of a sample variance of a Poisson(20): (mu4 - sigma^4 (n-3)/(n-1)) / n, mu4 = 20 (1 + 3 * 20)
    se_var = np.sqrt((20 * 61 - 400 * (n - 3) / (n - 1)) / n)
    assert abs(late.var() - 20) < 4 * se_var


@pytest.mark.parametrize("partner, fraction", [(0, 0.25), (30, 0.25 + 0.75 * 0.75), (None, None)])
def test_a_basal_fraction_makes_a_partner_cooperating_not_required(partner, fraction):
    """syn = k·(b + (1 - b)·hill(P; K, 1)) with P clamped: A is Poisson with that mean. b = 0.25, K = 10 molecules:
    without P a quarter of the rate, with P = 30 a quarter plus three quarters of 0.75; the input form too."""
    n = 3000
    on_input = fraction is None
    modifier = ({"input": "u", "law": "hill", "K": "K_u", "n": "n1", "basal": "b"} if on_input else
                {"species": "P", "law": "hill", "K": "K_p", "n": "n1", "basal": "b"})
    network = net({"A": 0, "P": 0}, {"k_syn": (40, "molecules/h"), "k_deg": (1, "1/h"), "K_p": (1.0, "nM"),
                                     "K_u": (2.0, "nM"), "n1": (1, "1"), "b": (0.25, "1")},
                  [{"name": "syn", "products": {"A": 1}, "k": "k_syn", "modifiers": [modifier]},
                   {"name": "deg", "reactants": {"A": 1}, "k": "k_deg"}],
                  inputs={"u": {"unit": "nM"}} if on_input else None)
    if on_input:
        frame = simulate(network, n, [20.0], seed=3, inputs={"u": 2.0})  # u = K: half the Hill factor
        fraction = 0.25 + 0.75 * 0.5
    else:
        frame = simulate(network, n, [20.0], seed=3, perturbations=[Perturbation("clamp", "P", partner)])
    mean = 40 * fraction
    assert abs(frame["A"].mean() - mean) < 4 * np.sqrt(mean / n)


def test_a_basal_fraction_outside_zero_to_one_is_refused():
    with pytest.raises(Exception, match="basal fraction b must be a dimensionless number in"):
        net({"A": 0, "P": 0}, {"k_syn": (40, "molecules/h"), "K_p": (1.0, "nM"), "n1": (1, "1"), "b": (1.5, "1")},
            [{"name": "syn", "products": {"A": 1}, "k": "k_syn",
              "modifiers": [{"species": "P", "law": "hill", "K": "K_p", "n": "n1", "basal": "b"}]}])


def test_isomerisation_is_binomial():
    n, total = 3000, 50
    iso = net({"A": total, "B": 0}, {"kf": (2, "1/h"), "kb": (3, "1/h")},
              [{"name": "f", "reactants": {"A": 1}, "products": {"B": 1}, "k": "kf"},
               {"name": "b", "reactants": {"B": 1}, "products": {"A": 1}, "k": "kb"}])
    frame = simulate(iso, n, [0.2, 10.0], seed=3)
    p_t = 0.4 * (1 - np.exp(-5 * 0.2))  # E[B](t) / N from A(0) = N
    b_early = frame.loc[frame.time_h == 0.2, "B"]
    assert abs(b_early.mean() - total * p_t) < 4 * np.sqrt(total * p_t * (1 - p_t) / n)
    b = frame.loc[frame.time_h == 10.0, "B"]
    assert abs(b.mean() - 20) < 4 * np.sqrt(12 / n)
    assert abs(b.var() - 12) < 4 * 12 * np.sqrt(2 / n)
    assert (frame["A"] + frame["B"] == total).all()  # conservation, event by event


@pytest.mark.parametrize("convention, pairs", [("rate_law", 1.0), ("per_pair", 0.5)])
def test_reversible_dimerisation_matches_its_exact_stationary_distribution(convention, pairs):
    # 2 M <-> D, with k_on the rate law's constant (k_on [M]^2: propensity k_on/(s v) * m (m - 1)) or the
    # stochastic constant per distinct pair (propensity k_on/(s v) * m (m - 1) / 2), and k_off [D]
    n, total, scale = 3000, 40, 10.0
    dim = net({"M": total, "D": 0}, {"k_on": (0.5, "1/(nM*h)"), "k_off": (2, "1/h")},
              [{"name": "on", "reactants": {"M": 2}, "products": {"D": 1}, "k": "k_on"},
               {"name": "off", "reactants": {"D": 1}, "products": {"M": 2}, "k": "k_off"}], scale=scale,
              dimer_propensity=convention)
    frame = simulate(dim, n, [20.0], seed=5)
    # detailed balance: pi(d + 1) / pi(d) = a_on(m) / a_off(d + 1), m = total - 2 d
    weights = [1.0]
    for d in range(total // 2):
        m = total - 2 * d
        weights.append(weights[-1] * pairs * (0.5 / scale) * m * (m - 1) / (2.0 * (d + 1)))
    p = np.array(weights) / sum(weights)
    d_values = np.arange(p.size)
    mean, var = (p * d_values).sum(), (p * d_values**2).sum() - (p * d_values).sum() ** 2
    assert abs(frame["D"].mean() - mean) < 4 * np.sqrt(var / n)
    assert abs(frame["D"].var() - var) < 4 * var * np.sqrt(2 / n)


ODE_NET = dict(
    species={"A": 0, "B": 0, "C": 0},
    parameters={"k_a": (0.5, "nM/min"), "K_u": (0.5, "nM"), "n1": (1, "1"), "n2": (2, "1"),
                "K_c": (2.0, "nM"), "k_b": (10.0, "nM/h"), "k_2": (0.5, "1/(nM*h)"), "d_a": (0.5, "1/h"),
                "d_b": (0.2, "1/h"), "d_c": (1.0, "1/h")},
    reactions=[
        {"name": "a_syn", "products": {"A": 1}, "k": "k_a",
         "modifiers": [{"input": "u", "law": "hill", "K": "K_u", "n": "n1"},
                       {"species": "C", "law": "repression", "K": "K_c", "n": "n2"}]},
        {"name": "b_syn", "products": {"B": 1}, "k": "k_b"},
        {"name": "bind", "reactants": {"A": 1, "B": 1}, "products": {"C": 1}, "k": "k_2"},
        {"name": "a_deg", "reactants": {"A": 1}, "k": "d_a"},
        {"name": "b_deg", "reactants": {"B": 1}, "k": "d_b"},
        {"name": "c_deg", "reactants": {"C": 1}, "k": "d_c"}],
    inputs={"u": {"unit": "nM"}})


def ode_solution(u, t_end, volume=1.0):
    def rhs(t, y):
        a, b, c = y
        syn = 0.5 * 60 * u / (0.5 + u) * 2.0**2 / (2.0**2 + c**2)
        bind = 0.5 * a * b
        return [syn - bind - 0.5 * a, 10.0 - bind - 0.2 * b, bind - 1.0 * c]
    return solve_ivp(rhs, (0, t_end), [0, 0, 0], rtol=1e-9, atol=1e-9).y[:, -1]


@pytest.mark.parametrize("volume", [1.0, 2.0])
def test_large_copy_numbers_follow_the_ode_in_concentration_units(volume):
    scale = 1000.0  # molecules per nM: thousands of molecules of every species per cell
    network = net(scale=scale, **ODE_NET)
    frame = simulate(network, 40, [3.0], inputs={"u": 1.5}, seed=2, volume=volume)
    expected = ode_solution(1.5, 3.0)
    concentrations = frame[["A", "B", "C"]].mean().to_numpy() / (scale * volume)
    # per-cell noise ~ 1/sqrt(copy number) <= 3 %; over 40 cells the mean is within ~0.5 %
    assert np.allclose(concentrations, expected, rtol=0.02)


def test_zero_order_production_scales_with_cell_volume():
    frame = simulate(BIRTH_DEATH, 2000, [20.0], seed=4, volume=3.0)
    assert abs(frame["A"].mean() - 60) < 4 * np.sqrt(60 / 2000)


THREADS_SCRIPT = """
import hashlib, sys
from boneabm.signaling import load_network, simulate
f = simulate(load_network("rank"), 64, [0, 6, 30], seed=9,
             inputs={"rankl_nM": 2.5, "mcsf_nM": 0.8, "itam_ligand": 1.0})
print(hashlib.sha256(f.to_csv(index=False).encode()).hexdigest())
"""


def test_results_are_identical_for_one_and_two_threads():
    digests = set()
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        out = subprocess.run([sys.executable, "-c", THREADS_SCRIPT], env=env, capture_output=True, text=True,
                             check=True).stdout
        digests.add(out.strip())
    assert len(digests) == 1


def test_idle_kernel_threads_sleep_unless_the_user_says_otherwise():
    """Spinning OpenMP threads keep a shared core from the work (README: idle kernel threads sleep): importing
    boneabm asks for passive waiting, before numba starts its threads, but never overrides a user's choice."""
    script = "import os, boneabm; print(os.environ['OMP_WAIT_POLICY'])"
    unset = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for env, expected in ((unset, "passive"), (dict(unset, OMP_WAIT_POLICY="active"), "active")):
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected


def test_results_do_not_depend_on_cell_order():
    forward = CellBatch(BIRTH_DEATH, 50, seed=1)
    backward = CellBatch(BIRTH_DEATH, 50, seed=1)
    backward.rows = backward.rows[::-1].copy()
    from boneabm.signaling.perturbations import PerturbationSchedule

    effect = PerturbationSchedule(BIRTH_DEATH).at(0.0)
    for batch in (forward, backward):
        batch.step(2.0, np.zeros((50, 0)), np.ones(50), effect)
    assert np.array_equal(forward.X, backward.X)


def test_a_cells_result_is_its_own_whatever_cells_share_its_call():
    """Cells of unit and other volumes with their own inputs, advanced in one call, each end exactly as when
    advanced alone: the kernel keeps the rate constants a run of unit-volume cells shares between them (only the
    reactions an input modifies are each cell's), and a cell of another volume in between must not leave its own
    constants to the next."""
    from boneabm.signaling.perturbations import PerturbationSchedule

    network = net({"A": 5, "B": 0}, {"k_syn": (30, "molecules/h"), "k_act": (2.0, "1/(nM*h)"), "k_deg": (1, "1/h")},
                  [{"name": "syn", "products": {"A": 1}, "k": "k_syn"},
                   {"name": "act", "reactants": {"A": 1}, "products": {"B": 1}, "k": "k_act",
                    "modifiers": [{"input": "L", "law": "linear"}]},
                   {"name": "deg", "reactants": {"B": 1}, "k": "k_deg"}],
                  inputs={"L": {"unit": "nM"}})
    n = 60
    rng = np.random.default_rng(3)
    volume = np.where(rng.random(n) < 0.3, rng.choice([0.5, 2.0, 3.0], n), 1.0)  # runs of unit cells, broken
    inputs = rng.uniform(0.1, 3.0, (n, 1))
    effect = PerturbationSchedule(network).at(0.0)
    together, alone = CellBatch(network, n, seed=4), CellBatch(network, n, seed=4)
    together.step(3.0, inputs, volume, effect)
    rows = alone.rows.copy()
    for k in range(n):
        alone.rows = rows[k:k + 1]
        alone.step(3.0, inputs[k:k + 1], volume[k:k + 1], effect)
    assert (volume != 1.0).any() and (volume == 1.0).sum() > n / 2
    assert np.array_equal(together.X, alone.X) and np.array_equal(together.rng_state, alone.rng_state)
    assert together.X[volume == 1.0, 1].std() > 0  # (the inputs made the cells differ)


def test_splitting_a_tick_in_two_changes_nothing_but_noise():
    # inputs constant: two half-ticks are the same process as one tick (memoryless waiting times)
    n = 3000
    one = simulate(BIRTH_DEATH, n, [0.5], seed=21)["A"]
    halves = simulate(BIRTH_DEATH, n, [0.5], seed=22, max_step_h=0.25)["A"]
    assert abs(one.mean() - halves.mean()) < 4 * np.sqrt(one.var() / n + halves.var() / n)
    assert abs(one.mean() - 20 * (1 - np.exp(-0.5))) < 4 * np.sqrt(one.var() / n)


def test_division_splits_molecules_binomially_and_conserves_them():
    X = np.zeros((4000, 2), dtype=np.int64)
    X[:2000, 0] = 150  # mothers; rows 2000.. are daughters
    X[:2000, 1] = 7
    batch = CellBatch(BIRTH_DEATH, 4000, seed=3)
    mothers, daughters = np.arange(2000), np.arange(2000, 4000)
    clamped = np.array([False, True])
    split_molecules(X, batch.rng_state, mothers, daughters, clamped)
    assert (X[mothers, 0] + X[daughters, 0] == 150).all()
    assert abs(X[daughters, 0].mean() - 75) < 4 * np.sqrt(37.5 / 2000)
    assert abs(X[daughters, 0].var() - 37.5) < 4 * 37.5 * np.sqrt(2 / 2000)
    assert (X[:, 1][np.r_[mothers, daughters]] == 7).all()  # a clamped species keeps its clamp in both


@pytest.mark.parametrize("n, prob", [(1000, 0.3), (1000, 0.0033), (130, 0.75), (5000, 1 / 3)])
def test_the_binomial_from_a_cells_stream_has_the_binomials_mean_and_variance(n, prob):
    state = CellBatch(BIRTH_DEATH, 1, seed=11).rng_state
    draws = np.array([binomial(n, prob, state, 0) for _ in range(4000)])
    mean, var = n * prob, n * prob * (1 - prob)
    assert abs(draws.mean() - mean) < 4 * np.sqrt(var / 4000)
    assert abs(draws.var() - var) < 4 * var * np.sqrt(2 / 4000)
    assert binomial(n, 0.0, state, 0) == 0 and binomial(n, 1.0, state, 0) == n


def test_extruded_nuclei_take_their_share_of_the_molecules():
    X = np.zeros((3000, 2), dtype=np.int64)
    X[:, 0], X[:, 1] = 400, 9
    state = CellBatch(BIRTH_DEATH, 3000, seed=4).rng_state
    rows, fraction = np.arange(3000), np.full(3000, 0.25)
    shed_molecules(X, state, rows, fraction, np.array([False, True]))
    assert abs(X[:, 0].mean() - 300) < 4 * np.sqrt(400 * 0.25 * 0.75 / 3000)
    assert abs(X[:, 0].var() - 75) < 4 * 75 * np.sqrt(2 / 3000)
    assert (X[:, 1] == 9).all()  # a clamped species keeps its clamp


def test_inhibitor_window_stops_and_restarts_a_reaction_and_a_clamp_holds_a_count():
    frame = simulate(BIRTH_DEATH, 500, [1.0, 2.0, 3.0], seed=6, initial=np.full((500, 1), 20),
                     perturbations=[Perturbation("inhibitor", "syn", 0.0, start_h=1.0, stop_h=2.0)])
    at = {t: frame.loc[frame.time_h == t, "A"].mean() for t in (1.0, 2.0, 3.0)}
    assert at[2.0] == pytest.approx(at[1.0] * np.exp(-1), rel=0.1)  # pure decay while inhibited
    assert at[3.0] > at[2.0] + 5  # synthesis back after wash-out
    clamped = simulate(BIRTH_DEATH, 20, [0.5, 5.0], seed=6, perturbations=[Perturbation("clamp", "A", 33)])
    assert (clamped["A"] == 33).all()
    # a clamp is per nucleus, like every reading: a cell of three nuclei holds three times the count (the
    # transgene is in every nucleus), not the concentration of a third
    fused = simulate(BIRTH_DEATH, 20, [0.5, 5.0], seed=6, volume=3.0, perturbations=[Perturbation("clamp", "A", 33)])
    assert (fused["A"] == 99).all()


def test_knockout_zeroes_a_species_and_its_synthesis():
    frame = simulate(BIRTH_DEATH, 50, [1.0, 5.0], seed=6, initial=np.full((50, 1), 20),
                     perturbations=[Perturbation("knockout", "A")])
    assert (frame["A"] == 0).all()
    assert frame.attrs["events"]["syn"] == 0


def test_consumed_inputs_are_reported_in_real_molecules():
    binding = net({"R": 100, "RL": 0}, {"k_on": (1.0, "1/(nM*h)"), "k_off": (2.0, "1/h")},
                  [{"name": "on", "reactants": {"R": 1}, "products": {"RL": 1}, "k": "k_on",
                    "modifiers": [{"input": "L", "law": "linear"}], "consumes": "L"},
                   {"name": "off", "reactants": {"RL": 1}, "products": {"R": 1}, "k": "k_off", "releases": "L"}],
                  inputs={"L": {"unit": "nM"}})
    batch = CellBatch(binding, 10, seed=1)
    from boneabm.signaling.perturbations import PerturbationSchedule

    batch.step(5.0, np.full((10, 1), 1.0), np.ones(10), PerturbationSchedule(binding).at(0.0))
    per_event = 602.214076 * 1.0 / 10.0  # real molecules one scaled event stands for (1 pL, 10 per nM)
    assert np.allclose(batch.consumed[:, 0], batch.X[:, 1] * per_event)  # net bound = what is bound now


RACE_SCRIPT = """
import numba as nb, numpy as np
from boneabm.signaling.native import take_next

@nb.njit(parallel=True)
def claimed_counts(n_items):
    counter = np.zeros(1, dtype=np.int64)
    claimed = np.zeros(n_items, dtype=np.int64)
    work = np.zeros(n_items)
    for _ in nb.prange(64):
        item = take_next(counter)
        while item < n_items:
            claimed[item] += 1
            done = 0.0
            for i in range(item % 7 + 200):  # a microsecond's work an item, so all threads are at it together
                done = done * 0.5 + i
            work[item] = done
            item = take_next(counter)
    return claimed

claimed = claimed_counts(50_000)
print(nb.get_num_threads(), claimed.min(), claimed.max())
"""


def test_threads_racing_for_chunks_take_each_exactly_once():
    """The kernel's threads take chunks from a shared counter (ssa.advance_with): an increment that is not atomic
    would hand some chunk to two threads (its cells advanced twice) under this much contention, and a lost one
    none. Four threads, whatever the machine's cores."""
    env = dict(os.environ, NUMBA_NUM_THREADS="4")
    out = subprocess.run([sys.executable, "-c", RACE_SCRIPT], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["4", "1", "1"]
