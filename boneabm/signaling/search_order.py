"""The order in which the SSA kernel searches a network's reactions, found once per network and cached.

The kernel finds the reaction that fires by a linear search over propensities; searching the most frequent
reactions first makes it several times faster. Finding that order takes a short simulation (~2 s for the rank
network), so it is kept on disk (``boneabm.cache``) under a key made of the network's validated content and
the versions of the code that computes it. The order is a function of that key alone: the simulation has a
fixed seed, fixed size and fixed inputs (the network's ``reference_inputs``). It changes which reaction a given
random number fires, not the distribution of anything, so a run is exact in any order; but the same order for
the same network keeps a seed's results the same from one machine and one day to the next.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import numpy as np

from boneabm import cache
from boneabm.version import __version__

if TYPE_CHECKING:
    from boneabm.signaling.network import Network, NetworkSpec

CACHE_KIND = "search-order"


def order_key(spec: NetworkSpec) -> str:
    """SHA-256 of the network's validated content (canonical JSON) and of the versions the order depends on:
    boneabm's (the kernel and the ordering simulation), numpy's and scipy's (the initial counts' draws)."""
    import scipy

    payload = {"network": spec.model_dump(mode="json"), "boneabm": __version__, "numpy": np.__version__,
               "scipy": scipy.__version__}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def search_order(network: Network) -> np.ndarray:
    """Reactions by decreasing firing frequency in the network's reference condition: from the cache when it
    holds this network's order, else simulated (and cached)."""
    key = order_key(network.spec)
    cached = _from_entry(cache.read_entry(CACHE_KIND, key), network)
    if cached is not None:
        return cached
    from boneabm.signaling.simulate import firing_frequency_order  # the solver: only on a miss

    order = firing_frequency_order(network, network.spec.reference_inputs)
    cache.write_entry(CACHE_KIND, key, {"network": network.spec.name, "boneabm": __version__,
                                        "reactions": [network.reactions[j] for j in order]})
    return order


def _from_entry(entry, network: Network) -> np.ndarray | None:
    """The order an entry holds, by reaction name; None if it is not a complete order of this network's
    reactions (a damaged or foreign file is recomputed, never trusted)."""
    try:
        names = entry["reactions"]
        index = {name: j for j, name in enumerate(network.reactions)}
        order = np.array([index[name] for name in names], dtype=np.int64)
    except (TypeError, KeyError):
        return None
    return order if sorted(order.tolist()) == list(range(network.n_reactions)) else None
