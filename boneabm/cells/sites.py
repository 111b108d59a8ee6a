"""Which agent stands on each grid site: one object array that Mesa's cells read instead of a list each.

Mesa keeps a list of agents in every cell and the cell in every agent, so one move touches three Python
objects; in a run, between kernel calls that evict them from the caches, that cost ≈ 1.5 µs a move, a tenth of
the culture's time outside the kernel. Here each of Mesa's cells holds a view of its entry in the model's
``site_agent`` array (``SiteAgents``) and each agent finds its cell from its population row
(``agent.Cell.cell``), so a batch of moves is two fancy assignments (``motility.move``). Mesa's own API reads
and writes the same array — ``cell.agents``, ``add_agent``/``remove_agent`` (and with them the grid's ``empty``
layer), the agents of a neighbourhood or of ``grid.all_cells`` — so it stays consistent by construction
(tests/test_precursors.py checks it through births, deaths, fusions and moves).
"""

from __future__ import annotations

import numpy as np


class SiteAgents:
    """The agents on one site, as Mesa's cell holds them in a list (a site holds at most one)."""

    __slots__ = ("occupant", "site")

    def __init__(self, occupant: np.ndarray, site: tuple[int, int]):
        self.occupant, self.site = occupant, site

    def __iter__(self):
        agent = self.occupant[self.site]
        return iter(() if agent is None else (agent,))

    def __len__(self) -> int:
        return 0 if self.occupant[self.site] is None else 1

    def __getitem__(self, index):
        return list(self)[index]

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def __repr__(self) -> str:
        return repr(list(self))

    def copy(self) -> list:
        return list(self)

    def append(self, agent) -> None:
        if self.occupant[self.site] is not None:
            raise ValueError(f"site {self.site} already holds a cell")
        self.occupant[self.site] = agent

    def remove(self, agent) -> None:
        if self.occupant[self.site] is not agent:
            raise ValueError(f"site {self.site} does not hold {agent!r}")
        self.occupant[self.site] = None


def occupy(grid, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Give every cell of a fresh, empty Mesa ``grid`` a view of its entry in a new ``site_agent`` array;
    returns the grid's cells by site and ``site_agent`` (None where a site is empty)."""
    site_cells = np.empty(shape, dtype=object)
    site_agent = np.full(shape, None, dtype=object)
    for cell in grid:
        site_cells[cell.coordinate] = cell
        # before any neighbourhood or collection is built: Mesa's collections keep the cells' lists
        cell._agents = SiteAgents(site_agent, cell.coordinate)
    # the grid built and cached its collection of all cells with their old lists: dropped, as Mesa drops it when
    # cells change, it is rebuilt on first use from the views (grid.agents then sees every agent)
    grid.__dict__.pop("all_cells", None)
    return site_cells, site_agent
