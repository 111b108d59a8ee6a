"""boneabm's SSA kernel against an independent engine, libRoadRunner (a test dependency), run on the network
exported as SBML: its Gillespie integrator evaluates each kinetic law as a propensity, its CVODE integrates the
same laws as ODEs."""

import numpy as np
import pytest
from scipy import stats

from boneabm.signaling import load_network, network_from_dict, simulate

roadrunner = pytest.importorskip("roadrunner")

N_CELLS = 500
ALPHA = 1e-3  # chance of failing a correct kernel, over all comparisons of a test (Bonferroni)


def roadrunner_ensemble(network, times, n_cells, seed):
    """Counts (cells, times, species) from libRoadRunner's Gillespie integrator, from the SBML initial amounts."""
    engine = roadrunner.RoadRunner(network.to_sbml())
    engine.setIntegrator("gillespie")
    engine.integrator.variable_step_size = False  # report at the given times only
    engine.timeCourseSelections = ["time"] + network.species
    runs = []
    for cell in range(n_cells):
        engine.resetAll()
        engine.integrator.seed = seed + cell
        runs.append(np.asarray(engine.simulate(times=[0.0, *times]))[1:, 1:])
    return np.array(runs)


def fourth_moment_se(x):
    """Standard errors of each column's mean and variance (from its second and fourth central moments)."""
    d = x - x.mean(axis=0)
    m2, m4 = np.mean(d**2, axis=0), np.mean(d**4, axis=0)
    return np.sqrt(m2 / len(x)), np.sqrt(np.maximum(m4 - m2**2, 0) / len(x))


def test_rank_network_matches_roadrunner_gillespie():
    """The whole RANK network (Ca²⁺ spikes included) from the same fixed state and the reference inputs: every
    species' mean and variance at 1, 4 and 12 h agree between the engines within their statistical error."""
    network = load_network("rank")
    times = [1.0, 4.0, 12.0]
    theirs = roadrunner_ensemble(network, times, N_CELLS, seed=1000)
    start = np.tile([round(rule.mean) for rule in network.initial], (N_CELLS, 1))
    frame = simulate(network, N_CELLS, times, inputs=network.spec.reference_inputs, seed=21, initial=start)
    mine = np.stack([frame.loc[frame.time_h == t, network.species].to_numpy(float) for t in times], axis=1)
    n_tests = 2 * len(times) * network.n_species
    critical = stats.norm.isf(ALPHA / (2 * n_tests))
    compared = 0
    for k, t in enumerate(times):
        (mean_se_a, var_se_a), (mean_se_b, var_se_b) = fourth_moment_se(mine[:, k]), fourth_moment_se(theirs[:, k])
        for i, species in enumerate(network.species):
            a, b = mine[:, k, i], theirs[:, k, i]
            if a.var() == 0 and b.var() == 0:
                assert a[0] == b[0], f"{species} at {t} h"
                continue
            compared += 1
            z_mean = (a.mean() - b.mean()) / np.hypot(mean_se_a[i], mean_se_b[i])
            z_var = (a.var(ddof=1) - b.var(ddof=1)) / np.hypot(var_se_a[i], var_se_b[i])
            assert abs(z_mean) < critical, f"{species} at {t} h: means {a.mean():.3f} vs {b.mean():.3f}"
            assert abs(z_var) < critical, f"{species} at {t} h: variances {a.var():.3f} vs {b.var():.3f}"
    assert compared > 2 * network.n_species  # most species move: the comparison is not of constants
    # the late module has begun: NFATc1 is imported and Ca²⁺ spikes fire in both
    j = network.species.index("NFATc1_n")
    assert mine[:, -1, j].mean() > 0.2 and theirs[:, -1, j].mean() > 0.2


def early_rank(scale: float):
    """RANK's receptor and early modules (M-CSF and RANKL binding to c-Fos), which have one stable steady state
    (no Ca²⁺ spikes, no NFATc1 feedback), with ``scale`` times the molecules per nM and initial counts."""
    spec = load_network("rank").spec.model_dump(mode="json")
    modules = {"csf1r", "receptor", "early"}
    species = {name: {**s, "initial": {"distribution": "fixed", "mean": s["initial"]["mean"] * scale}}
               for name, s in spec["species"].items() if s["module"] in modules}

    def inside(reaction):
        names = {*reaction.get("reactants", {}), *reaction.get("products", {}),
                 *(m["species"] for m in reaction.get("modifiers", []) if m.get("species"))}
        return names <= set(species)

    return network_from_dict({
        "name": "rank_early", "cell_volume_pl": spec["cell_volume_pl"], "inputs": spec["inputs"],
        "modules": {m: {"molecules_per_nM": v["molecules_per_nM"] * scale} for m, v in spec["modules"].items()
                    if m in modules},
        "species": species, "parameters": spec["parameters"],
        "reactions": [r for r in spec["reactions"] if inside(r)], "reference_inputs": spec["reference_inputs"]})


def test_ode_limit_matches_roadrunner_cvode():
    """At 100 times the molecules per nM (≈ 1000 per nM: the O(1/Ω) shift of the mean is well under 1 %) the
    SSA's steady-state mean is CVODE's steady state of the exported laws within 2 % for every species. The cells
    start at the ODE's steady state (rounded), run 6 h to forget it, and are averaged over the next 24 h."""
    network = early_rank(100.0)
    engine = roadrunner.RoadRunner(network.to_sbml())  # CVODE is its default integrator
    engine.timeCourseSelections = ["time"] + network.species
    trajectory = np.asarray(engine.simulate(times=[0.0, 48.0, 72.0]))[:, 1:]
    ode = trajectory[-1]
    np.testing.assert_allclose(trajectory[-2], ode, rtol=2e-3)  # steady by 48 h
    n_cells, times = 100, list(np.arange(6.0, 30.01, 1.0))
    frame = simulate(network, n_cells, times, inputs=network.spec.reference_inputs, seed=22,
                     initial=np.tile(np.rint(ode), (n_cells, 1)))
    per_cell = frame.groupby("cell_id")[network.species].mean().to_numpy()
    mean, se = per_cell.mean(axis=0), per_cell.std(axis=0, ddof=1) / np.sqrt(n_cells)
    # c-Fos, a steep function of slowly wandering upstream pools, is the noisiest: its mean is known to ±1 %
    assert (se < 0.01 * ode).all(), dict(zip(network.species, (se / ode).round(4)))
    relative = (mean - ode) / ode
    assert np.abs(relative).max() < 0.02, dict(zip(network.species, relative.round(4)))
    assert ode[network.species.index("cFos")] > 100  # the pathway is on: RANKL has induced c-Fos
