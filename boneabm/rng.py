"""Per-cell random streams: xoshiro256** seeded from (run seed, cell id) with splitmix64.

Every cell draws only from its own stream, so a cell's fate does not depend on how many other cells exist, in
which order they are stored or how many threads run: results are identical for any cell order and thread
count (tests/test_ssa.py checks both). A daughter gets a fresh stream from its own id; the mother keeps hers.

All arithmetic is on ``np.uint64`` values: mixing uint64 with Python int literals makes numba promote to float.
"""

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
_S7, _S17, _S45, _S11 = np.uint64(7), np.uint64(17), np.uint64(45), np.uint64(11)
_FIVE, _NINE = np.uint64(5), np.uint64(9)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@nb.njit(cache=True, inline="always")
def _splitmix64(x):
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31), x + _GOLDEN


@nb.njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (np.uint64(64) - k))


@nb.njit(cache=True, inline="always")
def xoshiro_step(s0, s1, s2, s3):
    """One step of xoshiro256** on a state held in four values: (64-bit output, the next state)."""
    result = _rotl(s1 * _FIVE, _S7) * _NINE
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _S45)
    return result, s0, s1, s2, s3


@nb.njit(cache=True, inline="always")
def next_uint64(state, row):
    """Advance cell ``row``'s xoshiro256** state in place and return its next 64-bit output."""
    result, s0, s1, s2, s3 = xoshiro_step(state[row, 0], state[row, 1], state[row, 2], state[row, 3])
    state[row, 0], state[row, 1], state[row, 2], state[row, 3] = s0, s1, s2, s3
    return result


@nb.njit(cache=True, inline="always")
def next_uniform(state, row):
    """A double uniform on [0, 1) from cell ``row``'s stream (53 random bits)."""
    return np.float64(next_uint64(state, row) >> _S11) * _TO_UNIT


@nb.njit(cache=True, inline="always")
def next_uniform_local(s0, s1, s2, s3):
    """``next_uniform`` on a stream held in four local values (registers, in a loop that draws often):
    (the uniform, the next state); the same numbers as ``next_uniform`` from the same state."""
    result, s0, s1, s2, s3 = xoshiro_step(s0, s1, s2, s3)
    return np.float64(result >> _S11) * _TO_UNIT, s0, s1, s2, s3


@nb.njit(cache=True)
def seed_streams(run_seed, cell_ids, state, rows):
    """Seed ``state[rows[i]]`` from (``run_seed``, ``cell_ids[i]``) through a splitmix64 chain."""
    for i in range(cell_ids.shape[0]):
        x = np.uint64(run_seed) ^ (np.uint64(cell_ids[i]) * _MIX2)
        x = x * _GOLDEN  # decorrelate neighbouring ids before the chain
        for j in range(4):
            out, x = _splitmix64(x)
            state[rows[i], j] = out
        # xoshiro256** must never start from all zeros; splitmix64 makes that astronomically unlikely
        if state[rows[i], 0] == 0 and state[rows[i], 1] == 0 and state[rows[i], 2] == 0 and state[rows[i], 3] == 0:
            state[rows[i], 0] = _GOLDEN


@nb.njit(cache=True)
def draw_uniforms(state, rows, n_per_row):
    """``n_per_row`` uniforms from each listed cell's stream, as an array of shape ``(len(rows), n_per_row)``."""
    out = np.empty((rows.shape[0], n_per_row))
    for i in range(rows.shape[0]):
        for j in range(n_per_row):
            out[i, j] = next_uniform(state, rows[i])
    return out
