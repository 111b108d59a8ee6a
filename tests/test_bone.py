"""The bone slice: resorption bookkeeping, cathepsin K's collagen step, pit and trench counting."""

import numpy as np
import pytest

from boneabm.config import BoneConfig, DomainConfig
from scipy import ndimage

from boneabm.environment.bone import PIT, TRENCH, Bone, _elongations


def bone(periodic=False, **config):
    return Bone(BoneConfig(**config), DomainConfig(width_um=500, height_um=500, grid_spacing_um=25,
                                                   periodic=periodic))


def test_resorbed_volume_is_what_was_asked_and_is_booked_to_the_osteoclast():
    b = bone()
    mineral, collagen = b.resorb(7, 250, 250, 20, 390.0, 390.0)  # one hour at the mean rate, Kanehisa 1988
    assert mineral == pytest.approx(390) and collagen == pytest.approx(390)
    assert b.mineral_depth_um.sum() * b.pixel_area_um2 == pytest.approx(390)
    assert np.allclose(b.removed_by[7], [390, 390])
    assert b.metrics()["resorbed_volume_um3"] == pytest.approx(390)


def test_without_cathepsin_k_demineralised_collagen_stays_behind():
    """Cathepsin K⁻/⁻ osteoclasts demineralise but leave the collagen (Saftig 1998)."""
    b = bone()
    b.resorb(1, 250, 250, 20, 1000.0, 0.0)
    assert b.collagen_depth_um.sum() == 0 and b.metrics()["collagen_removed_um3"] == 0
    # collagen never goes deeper than the mineral: asking for collagen alone removes nothing
    fresh = bone()
    assert fresh.resorb(2, 100, 100, 20, 0.0, 500.0) == (0.0, 0.0)


def test_resorption_stops_at_the_slice_thickness():
    b = bone(thickness_um=10)
    mineral, _ = b.resorb(1, 250, 250, 10, 1e9, 0.0)
    ix, iy = b.footprint(250, 250, 10)
    assert mineral == pytest.approx(ix.size * b.pixel_area_um2 * 10)
    assert b.mineral_depth_um.max() == 10


def test_footprints_wrap_on_a_periodic_domain():
    ix, iy = bone(periodic=True).footprint(1, 1, 12)
    assert ix.max() == 99 and iy.max() == 99  # reaches across the edge (100 pixels of 5 µm)
    ix, _ = bone(periodic=False).footprint(1, 1, 12)
    assert ix.max() < 10


def test_pits_and_trenches_are_counted_on_a_synthetic_depth_map():
    b = bone()
    for x, y in [(50, 50), (150, 400), (400, 100)]:
        b.resorb(1, x, y, 15, 2000.0, 2000.0)  # three round pits
    for k in range(30):  # a trench: an osteoclast moving while it resorbs (Søe & Delaissé 2017)
        b.resorb(2, 100 + 5 * k, 250, 10, 300.0, 300.0)
    for k in range(20):  # a second, vertical one
        b.resorb(3, 350, 200 + 5 * k, 10, 300.0, 300.0)
    m = b.metrics()
    assert (m["n_pits"], m["n_trenches"]) == (3, 2)
    assert m["resorbed_area_um2"] == pytest.approx((b.mineral_depth_um > 0.05).sum() * 25)
    assert m["max_depth_um"] == pytest.approx(b.mineral_depth_um.max())
    assert 0 < m["mean_depth_um"] < m["max_depth_um"]
    table = b.depth_table()
    assert table["mineral_depth_um"].sum() * 25 == pytest.approx(m["resorbed_volume_um3"])
    # the map the viewer outlines them from says the same, pixel for pixel: every resorbed pixel is in an event,
    # the pits' and the trenches' pixels form as many areas as were counted, and the trenches lie where they ran
    events = b.event_map()
    assert np.array_equal(events > 0, b.mineral_depth_um > 0.05)
    eight = np.ones((3, 3))
    assert ndimage.label(events == PIT, eight)[1] == 3 and ndimage.label(events == TRENCH, eight)[1] == 2
    assert events[round(175 / b.pixel_um), round(250 / b.pixel_um)] == TRENCH
    assert events[round(50 / b.pixel_um), round(50 / b.pixel_um)] == PIT


@pytest.mark.parametrize("periodic", [True, False])
def test_pits_and_trenches_across_a_periodic_edge_count_once(periodic):
    b = bone(periodic=periodic)
    b.resorb(1, 2, 250, 15, 2000.0, 2000.0)  # a pit on the left edge, its far side wrapping to the right
    b.resorb(2, 498, 2, 15, 2000.0, 2000.0)  # one on a corner, in four pieces
    for k in range(30):  # a trench running across the bottom edge
        b.resorb(3, 150, (430 + 5 * k) % 500, 10, 300.0, 300.0)
    m = b.metrics()
    if periodic:
        assert (m["n_pits"], m["n_trenches"]) == (2, 1)
        # the trench's two pieces, one at each edge, are both a trench's pixels
        column = b.event_map()[round(150 / b.pixel_um)]
        assert column[0] == TRENCH and column[-1] == TRENCH
    else:  # without wrapping the footprints are clipped: each mark stays where it is, one piece each
        assert (m["n_pits"], m["n_trenches"]) == (2, 2)


def _labels(b: Bone, flat: np.ndarray, event: np.ndarray) -> np.ndarray:
    """The map of events 1..n that ``Bone._resorbed_events`` found, 0 elsewhere."""
    labels = np.zeros(b.shape, dtype=np.int64)
    labels.ravel()[flat] = event + 1
    return labels


def _elongation_by_event(b: Bone, labels: np.ndarray, k: int) -> float:
    """The definition, one event at a time: its pixels (unwrapped across a periodic edge), their covariance
    plus each pixel's own extent, the square root of the eigenvalues' ratio."""
    pixels = np.argwhere(labels == k).astype(float)
    if b.periodic:
        for axis, size in enumerate(b.shape):
            if pixels[:, axis].min() == 0 and pixels[:, axis].max() == size - 1:
                pixels[pixels[:, axis] < size // 2, axis] += size
    small, large = np.linalg.eigvalsh(np.cov(pixels.T, bias=True) + np.eye(2) / 12)
    return float(np.sqrt(large / small))


@pytest.mark.parametrize("periodic", [False, True])
def test_every_events_elongation_is_its_own_shapes_from_one_pass_over_the_map(periodic):
    """The one-pass moments give each event the elongation its own pixels give, on random maps of strokes
    (pits and trenches, crossing the edges when periodic): an event mixed up with another, or a piece across
    an edge left where it is, changes it."""
    rng = np.random.default_rng(3)
    b = bone(periodic, pixels_per_site=2)
    x, y = np.ogrid[:b.shape[0], :b.shape[1]]
    checked = 0
    for _ in range(20):
        b.mineral_depth_um[:] = 0
        for _ in range(12):
            cx, cy, r, length, angle = *rng.uniform(0, b.shape[0], 2), rng.uniform(0.4, 3), rng.uniform(0, 8), \
                rng.uniform(0, np.pi)
            for t in np.linspace(0, length, 6):
                dx, dy = np.abs(x - cx - t * np.cos(angle)), np.abs(y - cy - t * np.sin(angle))
                if periodic:
                    dx, dy = np.minimum(dx, b.shape[0] - dx), np.minimum(dy, b.shape[1] - dy)
                b.mineral_depth_um[dx**2 + dy**2 <= r * r] = 1.0
        flat, event, ix, iy, n = b._resorbed_events()
        labels = _labels(b, flat, event)
        expected = [_elongation_by_event(b, labels, k) for k in range(1, n + 1)]
        assert np.allclose(_elongations(event, ix, iy, n), expected, rtol=1e-9)
        checked += n
    assert checked > 150


def test_shapes_exactly_on_the_trench_threshold_are_trenches():
    """A row of n pixels is exactly n times longer than wide, so a pair sits on the default threshold of 2,
    where round-off alone would decide: it is a trench (length ≥ 2 × width), and a row of three at
    threshold 3, while a single pixel and a 2 × 2 square are pits."""
    for threshold, shapes, trenches in ((2.0, [[(0, 0), (0, 1)], [(5, 5)], [(9, 9), (9, 10), (10, 9), (10, 10)]], 1),
                                        (3.0, [[(0, 0), (1, 0), (2, 0)], [(6, 0), (6, 1)]], 1),
                                        (2.0, [[(0, 0), (1, 1)]], 1)):  # a diagonal pair: √7 ≈ 2.65
        b = bone(trench_elongation=threshold)
        for shape in shapes:
            for px, py in shape:
                b.mineral_depth_um[px, py] = 1.0
        m = b.metrics()
        assert (m["n_trenches"], m["n_pits"]) == (trenches, len(shapes) - trenches)


def test_osteoclasts_resorb_only_bare_bone_and_concentrate_on_it():
    """Lining cells cover quiescent bone (Everts et al. 2002 JBMR 17:77): a footprint half over covered sites
    removes the same volume from its bare half alone, twice as deep, and nothing under the cover."""
    domain = DomainConfig(width_um=200, height_um=200, grid_spacing_um=25)
    open_bone, half = Bone(BoneConfig(pixels_per_site=2), domain), Bone(BoneConfig(pixels_per_site=2), domain)
    covered = np.zeros(domain.shape, dtype=bool)
    covered[4:, :] = True  # x ≥ 100 µm
    half.cover(covered)
    args = (np.array([1]), np.array([100.0]), np.array([100.0]), np.array([40.0]), np.array([5000.0]), np.array([0.0]))
    whole, bare = open_bone.resorb_many(*args), half.resorb_many(*args)
    assert bare[0, 0] == pytest.approx(whole[0, 0])
    assert half.mineral_depth_um[8:, :].max() == 0
    assert half.mineral_depth_um.max() == pytest.approx(2 * open_bone.mineral_depth_um.max(), rel=0.1)
    half.cover(np.ones(domain.shape, dtype=bool))
    assert half.resorb_many(*args)[0, 0] == 0


def test_bare_sites_is_every_site_with_an_uncovered_pixel():
    """The per-site scan that stops at a site's first bare pixel agrees with the plain reduction, covered and
    new-matrix pixels at every density and pixels per site."""
    rng = np.random.default_rng(3)
    for p in (1, 2, 5):
        for density in (0.0, 0.5, 0.97, 1.0):
            b = bone(pixels_per_site=p)
            b.covered_px = rng.random(b.shape) < density
            want = ~b.covered_px.reshape(20, p, 20, p).all(axis=(1, 3))
            assert np.array_equal(b.bare_sites(), want)
    b = bone()
    b.cover(np.ones((20, 20), dtype=bool))
    covered = b.covered_px.copy()
    covered[7, 3] = False  # one bare pixel of site (1, 0)
    b.covered_px = covered
    assert np.flatnonzero(b.bare_sites()).tolist() == [20]
    b.form(0.0, np.array([1]), np.array([0]), np.array([625.0]))  # new matrix covers site (1, 0) too
    assert not b.bare_sites().any()


def test_bare_sites_follow_the_lining_cells_as_they_move():
    """``bare_sites`` is found again for each new map of covered pixels (and kept while there is none): lining
    cells that cover, retract and cover elsewhere move what an osteoclast can seal on."""
    b = bone()
    assert b.bare_sites().all()
    assert b.bare_sites() is b.bare_sites()  # kept while nothing changes
    covered = np.zeros((20, 20), dtype=bool)
    covered[:5] = True
    b.cover(covered)
    assert np.array_equal(b.bare_sites(), ~covered)
    b.cover(~covered)
    assert np.array_equal(b.bare_sites(), covered)
    b.cover(np.zeros((20, 20), dtype=bool))
    assert b.bare_sites().all()


@pytest.mark.parametrize("periodic", [False, True])
def test_metrics_count_the_events_the_event_map_shows(periodic):
    """``metrics`` reads the events from the resorbed pixels alone; the event map labels the whole slice: both
    see the same pits and trenches and the same depths, on random maps with areas across the edges."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        b = bone(periodic=periodic)
        for _ in range(int(rng.integers(0, 25))):
            x, y = rng.uniform(0, 500, 2)
            b.resorb(1, x, y, rng.uniform(3, 40), rng.uniform(10, 3000), 0.0)
        m, events = b.metrics(), b.event_map()
        resorbed = b.mineral_depth_um > 0.05
        flat, event, _, _, n = b._resorbed_events()
        labels = _labels(b, flat, event)
        kind = np.zeros(n + 1, dtype=np.uint8)
        kind[labels] = events
        assert (m["n_trenches"], m["n_pits"]) == ((kind[1:] == TRENCH).sum(), (kind[1:] == PIT).sum())
        depths = b.mineral_depth_um[resorbed]
        assert m["mean_depth_um"] == (depths.mean() if depths.size else 0.0)
        assert m["max_depth_um"] == (depths.max() if depths.size else 0.0)
