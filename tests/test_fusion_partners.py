"""Fusion partners are not alike (`osteoclasts.multinucleated_pair_fusion_factor`): a pair of two multinucleated
cells fuses at that fraction of the rate of a pair with a mononuclear partner (Levaot et al. 2015; Hobolt-Pedersen
et al. 2014; Møller et al. 2017). Checked on the kernel with many independent draws, and on a culture."""

import numpy as np

from boneabm.catalog import find
from boneabm.cells.osteoclast.fusion import choose_fusions
from boneabm.config import load_experiment
from boneabm.model import BoneModel
from boneabm.yamlio import read_yaml

TRIALS = 20000
RATE_DT = 0.5


def fuse_centre(neighbour_nuclei: list[int], drives: list[float], factor: float, seed: int) -> np.ndarray:
    """Over TRIALS independent ticks, which neighbour (index, or -1 for none) a multinucleated cell at the centre
    of a 3 × 3 grid fuses with, its neighbours at two corners that do not touch each other."""
    n = len(neighbour_nuclei) + 1
    sites = [(1, 1), (0, 0), (0, 2)][:n]
    site_row = np.full((3, 3), -1, dtype=np.int64)
    x = np.array([s[0] for s in sites], dtype=np.int64)
    y = np.array([s[1] for s in sites], dtype=np.int64)
    site_row[x, y] = np.arange(n)
    nuclei = np.array([4, *neighbour_nuclei], dtype=np.int64)
    drive = np.array([1.0, *drives])
    order, rank = np.arange(n), np.arange(n)  # the centre first: it considers every pair
    rng = np.random.default_rng(seed)
    partner = np.full(TRIALS, -1)
    for t in range(TRIALS):
        first, second = choose_fusions(site_row, x, y, nuclei, order, rank, drive, rng.random(n), rng.random(n),
                                       RATE_DT, factor, False)
        if first.size:
            assert first[0] == 0
            partner[t] = second[0] - 1
    return partner


def within(observed: float, p: float) -> bool:
    return abs(observed - p) <= 4 * np.sqrt(p * (1 - p) / TRIALS)  # 4 binomial sd


def test_two_multinucleated_cells_fuse_at_the_factor_times_the_rate_and_a_mononuclear_partner_at_the_full_rate():
    for nuclei, factor in [(3, 0.2), (3, 1.0), (1, 0.2), (3, 0.0)]:
        w = 0.8 * (factor if nuclei > 1 else 1.0)
        fused = (fuse_centre([nuclei], [0.8], factor, seed=nuclei) >= 0).mean()
        assert within(fused, -np.expm1(-RATE_DT * w)), (nuclei, factor, fused)


def test_a_multinucleated_cell_picks_its_mononuclear_neighbour_over_a_multinucleated_one_by_the_factor():
    factor = 0.25
    partner = fuse_centre([1, 5], [0.6, 0.6], factor, seed=7)
    w_mono, w_multi = 0.6, 0.6 * factor
    assert within((partner >= 0).mean(), -np.expm1(-RATE_DT * (w_mono + w_multi)))
    fused = partner[partner >= 0]
    assert within((fused == 1).mean(), w_multi / (w_mono + w_multi))
    assert (fuse_centre([1, 5], [0.6, 0.6], 0.0, seed=8) != 1).all()  # with 0, never the multinucleated one,
    swapped = fuse_centre([5, 1], [0.6, 0.6], 0.0, seed=9)  # whether it is met before or after the other
    assert (swapped != 0).all() and within((swapped == 1).mean(), -np.expm1(-RATE_DT * w_mono))


def test_in_a_culture_without_fusion_between_multinucleated_cells_every_fusion_has_a_mononuclear_partner():
    """The lineage hands the factor to the kernel: each fusion's partners, looked up before its tick."""
    def partners_nuclei(factor: float) -> list[tuple[int, int]]:
        data = read_yaml(find("osteoclastogenesis").path)
        data["domain"].update(width_um=1000, height_um=1000)
        data.update(seed=3, osteoclasts={"multinucleated_pair_fusion_factor": factor})
        model = BoneModel(load_experiment(data=data))
        pop = model.osteoclasts.population
        pairs = []
        while model.time_h < 144:  # day 6: the multinucleated cells have met
            nuclei = {int(pop.cell_id[r]): int(pop.nuclei[r]) for r in pop.rows}
            seen = len(model.events)
            model.step()
            pairs += [(nuclei.get(e[2], 1), nuclei.get(e[3], 1)) for e in model.events[seen:] if e[1] == "fusion"]
        return pairs

    free = partners_nuclei(1.0)
    assert sum(min(p) > 1 for p in free) >= 3  # they do fuse when allowed (5 of 76), so the check below can fail
    held = partners_nuclei(0.0)
    assert len(held) >= 40 and all(min(p) == 1 for p in held)
