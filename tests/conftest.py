import copy
import os

import pytest
from hypothesis import strategies as st

from boneabm.config import load_experiment

# A small culture that runs in well under a second: 20 x 20 sites, 2 days.
# osteocytes beneath a tissue that make no sclerostin and Wnt at 9,500 molecules/h each, so that the osteoblast
# lineage reads Wnt at ≈ 0.5 nM, its K_D, in a tissue closed to the marrow (before embedded osteocytes add theirs)
WNT_HALF_SATURATING = {"density_per_mm3": 20_000, "sclerostin_per_cell_h": 0, "wnt_per_cell_h": 9_500}
SMALL = {
    "name": "small",
    "seed": 7,
    "time": {"duration_h": 48, "dt_h": 0.1, "record_every_h": 1, "snapshot_every_h": 12},
    "domain": {"width_um": 500, "height_um": 500, "grid_spacing_um": 25},
}


def merged(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


@pytest.fixture(autouse=True, scope="session")
def _own_cache_dir(tmp_path_factory):
    """The suite (and the processes it starts) caches into a folder of its own, never the user's cache."""
    before = os.environ.get("BONEABM_CACHE_DIR")
    os.environ["BONEABM_CACHE_DIR"] = str(tmp_path_factory.mktemp("boneabm-cache"))
    yield
    if before is None:
        os.environ.pop("BONEABM_CACHE_DIR", None)
    else:
        os.environ["BONEABM_CACHE_DIR"] = before


@pytest.fixture
def small():
    """small(**changes) -> a validated small Experiment with nested changes merged in."""
    return lambda **changes: load_experiment(data=merged(SMALL, changes))


@pytest.fixture
def small_yaml(tmp_path):
    """small_yaml(**changes) -> path of a YAML file holding the small experiment with changes."""
    import yaml

    def write(**changes):
        path = tmp_path / "small.yaml"
        path.write_text(yaml.safe_dump(merged(SMALL, changes)))
        return path

    return write


# Fuzzing: values of every kind a user could put anywhere in a YAML file (issue 16)
FUZZ_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                         st.text(max_size=8),
                         st.sampled_from(["nM/h", "1/h", "poisson", "hill", "TRAP", "k_turnover", "1e-3", ".inf"]))
FUZZ_VALUES = st.one_of(FUZZ_SCALARS, st.lists(FUZZ_SCALARS, max_size=3),
                        st.dictionaries(st.text(max_size=6), FUZZ_SCALARS, max_size=3))


def key_paths(node, prefix=()):
    """Every key path into a YAML tree (mappings and lists)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield prefix + (key,)
        yield from key_paths(child, prefix + (key,))


def edited(tree, edits):
    """A copy of ``tree`` with each (path, value) set; an edit under a parent an earlier one replaced is
    skipped."""
    data = copy.deepcopy(tree)
    for path, value in edits:
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    return data
