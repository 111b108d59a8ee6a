"""The structure-of-arrays store of every living cell.

Each cell's numbers live in model-owned arrays, one row per cell; the Mesa agent holds its row. Kernels and the
recorder read whole columns; agents are touched only for the rare, discrete things (birth, death, movement).
Rows of dead cells are reused, so row order means nothing: everything random is drawn from per-cell streams
keyed by the cell's id, and output is sorted by id.
"""

import numpy as np

from boneabm.rng import seed_streams

# column name -> (dtype, trailing shape); the network's species and counters add two matrices
COLUMNS = {
    "cell_id": (np.int64, ()),
    "x": (np.int64, ()),  # grid site, along the width
    "y": (np.int64, ()),  # grid site, along the height
    "born_h": (np.float64, ()),
    "generation": (np.int64, ()),  # divisions since plating
    "nuclei": (np.int64, ()),
    "max_nuclei": (np.int64, ()),
    "committed": (np.bool_, ()),  # TRAP⁺: a pre-osteoclast that no longer divides (irreversible)
    "mode": (np.int64, ()),  # multinucleated cells: 0 new, 1 migrating, 2 resorbing a pit, 3 a trench
    "formed_h": (np.float64, ()),  # when it reached the nuclei of an osteoclast; NaN before
    "distance_um": (np.float64, ()),  # path moved while multinucleated
    "alive": (np.bool_, ()),
    "rng_state": (np.uint64, (4,)),  # xoshiro256** state
    "agent": (object, ()),
}


class Population:
    def __init__(self, run_seed: int, capacity: int = 1024, n_species: int = 0, n_counters: int = 0):
        self.run_seed = np.uint64(run_seed)
        self._capacity = max(int(capacity), 16)
        columns = {**COLUMNS,
                   "molecules": (np.int64, (n_species,)),  # molecule counts of the signaling network
                   "counters": (np.int64, (n_counters,))}  # firings of counted reactions since birth
        self._columns = {name: np.zeros((self._capacity, *shape), dtype=dtype)
                         for name, (dtype, shape) in columns.items()}
        self._n_used = 0  # rows [0, _n_used) have been handed out at least once
        self._free: list[int] = []

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("_columns")
        if columns is not None and name in columns:
            return columns[name]
        raise AttributeError(name)

    @property
    def rows(self) -> np.ndarray:
        """Rows of the living cells, ascending."""
        return np.flatnonzero(self._columns["alive"][: self._n_used])

    @property
    def n_alive(self) -> int:
        return int(np.count_nonzero(self._columns["alive"][: self._n_used]))

    def _grow(self, needed: int) -> None:
        capacity = self._capacity
        while capacity < needed:
            capacity *= 2
        if capacity == self._capacity:
            return
        for name, column in self._columns.items():
            grown = np.zeros((capacity, *column.shape[1:]), dtype=column.dtype)
            grown[: self._capacity] = column
            self._columns[name] = grown
        self._capacity = capacity

    def add(self, agent, x: int, y: int, born_h: float, generation: int) -> int:
        """Give ``agent`` a row with a fresh random stream seeded from (run seed, its unique_id)."""
        if self._free:
            row = self._free.pop()
        else:
            self._grow(self._n_used + 1)
            row = self._n_used
            self._n_used += 1
        c = self._columns
        c["cell_id"][row] = agent.unique_id
        c["x"][row], c["y"][row] = x, y
        c["born_h"][row] = born_h
        c["generation"][row] = generation
        c["nuclei"][row] = 1
        c["max_nuclei"][row] = 1
        c["committed"][row] = False
        c["mode"][row] = 0
        c["formed_h"][row] = np.nan
        c["distance_um"][row] = 0.0
        c["alive"][row] = True
        c["agent"][row] = agent
        c["molecules"][row] = 0
        c["counters"][row] = 0
        seed_streams(self.run_seed, c["cell_id"][row : row + 1], c["rng_state"], np.array([row]))
        return row

    def release(self, row: int) -> None:
        """Free a dead cell's row for reuse."""
        self._columns["alive"][row] = False
        self._columns["agent"][row] = None
        self._free.append(row)
