"""The kernel generated for a network (boneabm.signaling.codegen) gives byte-identical results to the generic
kernel (ssa.advance) for the same seed: counts, firings per reaction, inputs used and the random streams, on
every shipped network and on random networks using every rate law the format has (issue 15).

A plausible bug in the generated code (a product in another order, a count not converted before it multiplies,
a clamp ignored, a dependent left out, the volume scaling lost) changes at least one firing among the
hundreds of thousands here, and with it every later count.
"""

import numpy as np
import pytest

from boneabm.signaling import Perturbation, load_network, network_from_dict
from boneabm.signaling.codegen import kernel, kernel_ir
from boneabm.signaling.perturbations import PerturbationSchedule
from boneabm.signaling.simulate import CellBatch
from boneabm.signaling.ssa import advance

ASSAY = {"rankl_nM": 2.5, "mcsf_nM": 0.8, "itam_ligand": 1.0}


def run_both(network, inputs, hours, n_cells=60, perturbations=(), seed=5):
    """The same cells advanced by each kernel in ticks of 0.5 h, volumes 1, 2 and 3.5 (fused cells), inputs
    varying between cells: everything each kernel leaves behind."""
    rng = np.random.default_rng(seed)
    U = np.array([[inputs[name] * rng.uniform(0.5, 1.5) for name in network.inputs] for _ in range(n_cells)])
    U = U.reshape(n_cells, len(network.inputs))
    V = np.resize([1.0, 2.0, 3.5], n_cells)
    schedule = PerturbationSchedule(network, list(perturbations))
    results = []
    for chosen in (kernel(network), advance):
        batch = CellBatch(network, n_cells, seed)
        fired = np.zeros(network.n_reactions, dtype=np.int64)
        for tick in range(int(hours / 0.5)):
            batch.step(0.5, U, V, schedule.at(tick * 0.5), kernel=chosen)
        fired += batch.events_per_reaction
        results.append((batch.X, fired, batch.consumed, batch.rng_state, batch.events_per_cell))
    return results


def assert_identical(results):
    generated, generic = results
    assert generic[4].sum() > 5_000  # enough events for a difference to show
    for mine, theirs in zip(generated, generic):
        assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)


@pytest.mark.parametrize("perturbations", [(), (Perturbation("knockout", "Fos"),),
                                           (Perturbation("clamp", "NFATc1_n", 40.0, start_h=2.0),
                                            Perturbation("inhibitor", "calcineurin_inhibitor", 0.3))],
                         ids=["wild type", "c-Fos knockout", "clamp and inhibitor"])
def test_rank_network_gives_the_generic_kernels_results(perturbations):
    network = load_network("rank")
    assert_identical(run_both(network, ASSAY, 6.0, perturbations=perturbations))


def test_osteoblast_network_gives_the_generic_kernels_results():
    network = load_network("osteoblast")
    inputs = {name: 1.0 for name in network.inputs}
    assert_identical(run_both(network, inputs, 24.0))


def random_network(rng, index):
    """A valid network drawing on every rate law: zero, first and second order (two species or one of
    stoichiometry 2), linear, Hill and repression modifiers on species and on an input, whole and fractional
    Hill exponents (and one above 8), basal fractions, an input used up and given back."""
    species = [f"S{i}" for i in range(int(rng.integers(3, 6)))]
    parameters = {"K": (float(rng.uniform(0.5, 5.0)), "nM"), "Ku": (1.5, "nM"), "b": (0.2, "1")}
    for n in (1, 2, 3, 2.5, 9):
        parameters[f"n{n}".replace(".", "_")] = (n, "1")
    reactions = []
    for j in range(int(rng.integers(5, 12))):
        shape = int(rng.integers(0, 4))  # zero order, first order, two species, stoichiometry 2
        picked = [str(s) for s in rng.choice(species, size=2, replace=False)]
        reactants = [{}, {picked[0]: 1}, {picked[0]: 1, picked[1]: 1}, {picked[0]: 2}][shape]
        product = str(rng.choice([s for s in species if s not in reactants]))
        reaction = {"name": f"r{j}", "reactants": reactants, "products": {product: int(rng.integers(1, 3))},
                    "k": f"k{j}", "modifiers": []}
        for _ in range(int(rng.integers(0, 3))):
            law = str(rng.choice(["linear", "hill", "repression"]))
            # a product never multiplies its own synthesis linearly: that would grow without bound
            modifier = {"species": str(rng.choice([s for s in species if law != "linear" or s != product])),
                        "law": law}
            if law != "linear":
                modifier.update(K="K", n=str(rng.choice(["n1", "n2", "n3", "n2_5", "n9"])))
                if rng.random() < 0.4:
                    modifier["basal"] = "b"
            reaction["modifiers"].append(modifier)
        order = sum(reactants.values()) + sum(m["law"] == "linear" for m in reaction["modifiers"])
        unit = {0: "nM/h", 1: "1/h", 2: "1/(nM*h)"}.get(order, f"1/(nM^{order - 1}*h)")
        parameters[f"k{j}"] = (float(rng.uniform(0.5, 20.0)) / 10.0 ** max(order - 1, 0), unit)
        if rng.random() < 0.3:
            reaction["modifiers"].append({"input": "u", "law": str(rng.choice(["hill", "repression"])), "K": "Ku",
                                          "n": "n2"})
        reactions.append(reaction)
    parameters["k_take"] = (0.5, "1/(nM*h)")
    parameters["k_back"] = (1.0, "1/h")
    reactions += [{"name": "take", "reactants": {species[0]: 1}, "products": {species[1]: 1}, "k": "k_take",
                   "modifiers": [{"input": "u", "law": "linear"}], "consumes": "u"},
                  {"name": "back", "reactants": {species[1]: 1}, "products": {species[0]: 1}, "k": "k_back",
                   "releases": "u"}]
    for s in species:  # every species decays, so nothing grows without bound
        parameters[f"d_{s}"] = (0.3, "1/h")
        reactions.append({"name": f"decay_{s}", "reactants": {s: 1}, "k": f"d_{s}"})
    return network_from_dict({
        "name": f"random{index}", "cell_volume_pl": 1.0, "modules": {"m": {"molecules_per_nM": 10.0}},
        "inputs": {"u": {"unit": "nM"}},
        "species": {s: {"module": "m", "initial": int(rng.integers(0, 40))} for s in species},
        "parameters": {k: {"value": v, "unit": u, "source": "test"} for k, (v, u) in parameters.items()},
        "reactions": reactions})


@pytest.mark.parametrize("index", range(6))
def test_random_networks_give_the_generic_kernels_results(index):
    network = random_network(np.random.default_rng(1000 + index), index)
    assert_identical(run_both(network, {"u": 2.0}, 20.0,
                              perturbations=[Perturbation("clamp", network.species[-1], 7.0, start_h=5.0,
                                                          stop_h=12.0)]))


def test_the_generated_code_is_a_function_of_the_network_alone():
    network = load_network("osteoblast")
    assert kernel_ir(network.arrays) == kernel_ir(load_network("osteoblast").arrays)
    assert kernel_ir(network.arrays) != kernel_ir(load_network("rank").arrays)


def test_a_later_process_loads_the_stored_machine_code_and_gets_the_same_results(tmp_path):
    """The first process compiles and stores the code (keyed by its IR and the host CPU); the next loads it
    without compiling, with the same results as the generic kernel here. Both use a cache of their own, so what
    other tests stored (a two-reaction SBML model's code is under 1 kB) is not counted."""
    import hashlib
    import os
    import subprocess
    import sys

    network = load_network("osteoblast")
    probe = ("import hashlib, numpy as np\n"
             "from boneabm.signaling import load_network, simulate\n"
             "network = load_network('osteoblast')\n"
             "frame = simulate(network, 50, [24.0], inputs={name: 1.0 for name in network.inputs}, seed=9)\n"
             "print(hashlib.sha256(frame[network.species].to_numpy().tobytes()).hexdigest())\n")
    environment = {**os.environ, "BONEABM_CACHE_DIR": str(tmp_path / "cache")}

    def run_probe() -> str:
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                              env=environment).stdout.strip()

    first = run_probe()  # compiles and stores (the network in its file's order too: it orders its search once)
    stored = {path: path.stat().st_mtime_ns for path in (tmp_path / "cache").rglob("kernels/*.o")}
    assert stored and all(path.stat().st_size > 1000 for path in stored)  # machine code, not empty files
    out = run_probe()
    assert {path: path.stat().st_mtime_ns for path in (tmp_path / "cache").rglob("kernels/*.o")} == stored
    assert out == first  # read, not compiled and written again, and the same results
    batch = CellBatch(network, 50, 9)
    U = np.ones((50, len(network.inputs)))
    schedule = PerturbationSchedule(network)
    batch.step(24.0, U, np.ones(50), schedule.at(0.0), kernel=advance)
    assert out == hashlib.sha256(batch.X.tobytes()).hexdigest()


def test_the_generated_kernel_lets_other_threads_run():
    """While a call runs (its cells' work, not Python's), another thread of the process runs Python: the kernel
    holds no GIL (its parallel region, and with ``nogil`` the rest of the call), so the app's page is packed and
    sent beside the model's steps."""
    import threading
    import time

    network = load_network("rank")
    advance = kernel(network)
    U = np.tile([ASSAY[name] for name in network.inputs], (4000, 1))
    V, schedule = np.ones(4000), PerturbationSchedule(network, [])
    CellBatch(network, 4000, 3).step(0.01, U, V, schedule.at(0.0), kernel=advance)  # compiled and warm
    running, beside = threading.Event(), []

    def watched(*args):
        running.set()
        try:
            advance(*args)
        finally:
            running.clear()

    other = threading.Thread(target=lambda: CellBatch(network, 4000, 4).step(3.0, U, V, schedule.at(0.0),
                                                                             kernel=watched))
    other.start()
    while not running.is_set() and other.is_alive():
        pass
    while running.is_set():  # Python in this thread while the kernel runs in the other
        beside.append(time.perf_counter())
    other.join()
    assert len(beside) > 1000 and beside[-1] - beside[0] > 0.05, (len(beside), beside[-1] - beside[0])


def test_two_threads_calls_of_the_generated_kernel_never_overlap(monkeypatch):
    """numba's fallback threading layer (workqueue) aborts on two launches at once, which a kernel without the
    GIL would allow: the calls take turns."""
    import threading
    import time

    from boneabm.signaling import ssa

    inside, overlaps = [0], []

    def launch(*args):
        inside[0] += 1
        overlaps.append(inside[0] > 1)
        time.sleep(0.05)
        inside[0] -= 1

    monkeypatch.setattr(ssa, "advance_with", launch)
    advance = kernel(load_network("rank"))
    threads = [threading.Thread(target=advance) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [False, False, False]
