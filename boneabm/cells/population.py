"""The structure-of-arrays store of one lineage's living cells.

Each cell's numbers live in arrays, one row per cell; the Mesa agent holds its row. Kernels and the recorder
read whole columns; agents are touched only for the rare, discrete things (birth, death, movement). Rows of dead
cells are reused, so row order means nothing: everything random is drawn from per-cell streams keyed by the
cell's id, and output is sorted by id.

The store keeps what every cell has (id, site, birth, nuclei, its random stream, the molecules and counters of
its lineage's network); a lineage adds its own columns with their values at birth.
"""

from __future__ import annotations

import numpy as np

from boneabm.rng import seed_streams

# column name -> (dtype, trailing shape, value at birth); the network's species and counters add two matrices
SHARED_COLUMNS = {
    "cell_id": (np.int64, (), 0),
    "x": (np.int64, (), 0),  # grid site, along the width
    "y": (np.int64, (), 0),  # grid site, along the height
    "born_h": (np.float64, (), 0.0),
    "generation": (np.int64, (), 0),  # divisions since plating
    # nuclei set a cell's cytoplasmic volume in its network (a fused cell pools its partners'), so every
    # lineage has them: 1 for a mononuclear cell
    "nuclei": (np.int64, (), 1),
    "alive": (np.bool_, (), False),
    "rng_state": (np.uint64, (4,), 0),  # xoshiro256** state
    "agent": (object, (), None),
}
_NOT_STATE = ("agent",)  # rebuilt from the other columns when a model is restored


class Population:
    def __init__(self, run_seed: int, capacity: int = 1024, n_species: int = 0, n_counters: int = 0,
                 lineage_columns: dict[str, tuple] | None = None):
        self.run_seed = np.uint64(run_seed)
        self._capacity = max(int(capacity), 16)
        self._birth_values = {name: value for name, (_, _, value) in
                              {**SHARED_COLUMNS, **(lineage_columns or {})}.items()}
        columns = {**SHARED_COLUMNS, **(lineage_columns or {}),
                   "molecules": (np.int64, (n_species,), 0),  # molecule counts of the signaling network
                   "counters": (np.int64, (n_counters,), 0)}  # firings of counted reactions since birth
        self._birth_values.update(molecules=0, counters=0)
        self._columns = {name: np.zeros((self._capacity, *shape), dtype=dtype)
                         for name, (dtype, shape, _) in columns.items()}
        # each column also as an attribute (pop.x): an instance attribute is found at once, where a __getattr__
        # fallback cost ≈ 0.5 µs a read, ~80 reads a tick
        self.__dict__.update(self._columns)
        self._n_used = 0  # rows [0, _n_used) have been handed out at least once
        self._free: list[int] = []
        # the living rows, found again only after a birth, a death or a restore: a tick reads them ~15 times,
        # between which nothing changes them (≈ 20 µs each in a run, the kernel having evicted ``alive``)
        self._rows: np.ndarray | None = None

    @property
    def rows(self) -> np.ndarray:
        """Rows of the living cells, ascending: the same array until a cell is born or dies, so never written to
        (not flagged read-only: numba would compile every kernel it reaches again for a read-only array)."""
        if self._rows is None:
            self._rows = np.flatnonzero(self._columns["alive"][: self._n_used])
        return self._rows

    @property
    def n_alive(self) -> int:
        return int(np.count_nonzero(self._columns["alive"][: self._n_used]))

    def site_map(self, rows: np.ndarray, shape: tuple[int, int], values: np.ndarray | None = None) -> np.ndarray:
        """A grid map of ``rows``: True at their sites, or the sum of their ``values`` there."""
        x, y = self._columns["x"][rows], self._columns["y"][rows]
        if values is None:
            held = np.zeros(shape, dtype=np.bool_)
            held[x, y] = True
            return held
        summed = np.zeros(shape)
        np.add.at(summed, (x, y), values)
        return summed

    def _grow(self, needed: int) -> None:
        capacity = self._capacity
        while capacity < needed:
            capacity *= 2
        if capacity == self._capacity:
            return
        for name, column in self._columns.items():
            grown = np.zeros((capacity, *column.shape[1:]), dtype=column.dtype)
            grown[: self._capacity] = column
            self._columns[name] = self.__dict__[name] = grown
        self._capacity = capacity

    def add(self, agent, x: int, y: int, born_h: float, generation: int) -> int:
        """Give ``agent`` a row with its columns at their birth values and a fresh random stream seeded from
        (run seed, its unique_id)."""
        if self._free:
            row = self._free.pop()
        else:
            self._grow(self._n_used + 1)
            row = self._n_used
            self._n_used += 1
        c = self._columns
        for name, value in self._birth_values.items():
            c[name][row] = value
        c["cell_id"][row] = agent.unique_id
        c["x"][row], c["y"][row] = x, y
        c["born_h"][row] = born_h
        c["generation"][row] = generation
        c["alive"][row] = True
        self._rows = None
        c["agent"][row] = agent
        seed_streams(self.run_seed, c["cell_id"][row : row + 1], c["rng_state"], np.array([row]))
        return row

    def release(self, row: int) -> None:
        """Free a dead cell's row for reuse."""
        self._columns["alive"][row] = False
        self._rows = None
        self._columns["agent"][row] = None
        self._free.append(row)

    def reseed(self, run_seed: int) -> None:
        """New random streams for every living cell and every cell born from now on, from (``run_seed``, id):
        a fork with a seed of its own."""
        self.run_seed = np.uint64(run_seed)
        rows = self.rows
        seed_streams(self.run_seed, self._columns["cell_id"][rows], self._columns["rng_state"], rows)

    # ----------------------------------------------------------------------------------------------- state
    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        """The used rows of every column (agents excepted) and the bookkeeping that decides future rows."""
        arrays = {name: column[: self._n_used].copy() for name, column in self._columns.items()
                  if name not in _NOT_STATE}
        return arrays, {"run_seed": int(self.run_seed), "n_used": self._n_used, "free": list(self._free)}

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        """Take the columns and bookkeeping of ``state``; agents are attached by the lineage afterwards."""
        missing = set(self._columns) - set(arrays) - set(_NOT_STATE)
        if missing:
            raise ValueError(f"population state lacks columns {sorted(missing)}")
        n_used = int(meta["n_used"])
        self._grow(n_used)
        for name, values in arrays.items():
            column = self._columns[name]
            if values.shape[1:] != column.shape[1:]:
                raise ValueError(f"population column {name}: shape {values.shape[1:]} where the network needs "
                                 f"{column.shape[1:]}")
            column[:n_used] = values
        self._n_used = n_used
        self._rows = None
        self._free = [int(r) for r in meta["free"]]
        self.run_seed = np.uint64(meta["run_seed"])
