"""The exact stochastic simulation kernel: Gillespie's direct method with a dependency graph and reactions
searched in order of firing frequency (the optimised direct method, Cao et al. 2004), all cells at once.

One call advances every listed cell by ``dt_h`` with its external inputs held constant over the call. For that
frozen-input process the simulation is exact: waiting times are exponential with the current total propensity,
and the waiting time pending at the end of the call is discarded, which the memorylessness of the exponential
makes exact as well (the next call starts a fresh one). Each cell draws only from its own xoshiro256** stream,
so results do not depend on thread count or cell order.

Propensities, the search and the firings are read from the network's arrays here, or computed by code generated
for the network (``codegen``; ``advance_with`` takes its addresses), with byte-identical results.

The per-cell random stream helpers come from ``boneabm.rng`` and the calls into generated code from
``native`` (both stable, rarely edited). numba does not notice an edit there when this module's kernel is
cached: clear ``NUMBA_CACHE_DIR`` after changing ``rng.py`` or ``native.py``.
"""

import numba as nb
import numpy as np
from numba.core.cpu_options import ParallelOptions

from boneabm.rng import next_uint64, next_uniform_local
from boneabm.signaling.native import call_event, call_propensities, take_next

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_ONE = np.uint64(1)
_U1, _U2, _U4, _U56 = np.uint64(1), np.uint64(2), np.uint64(4), np.uint64(56)


@nb.njit(cache=True, inline="always", error_model="numpy")
def _power(x, n, n_int):
    if n_int > 0:
        out = 1.0
        for _ in range(n_int):
            out *= x
        return out
    return x**n


@nb.njit(cache=True, inline="always", error_model="numpy")
def _propensity(j, x, base, Kn, n_int, net):
    s = net.simple_species[j]
    if s >= 0:  # first order, no species modifiers: most reactions
        return base[j] * x[s]
    a = base[j]
    if a == 0.0:
        return 0.0
    for p in range(net.reactant_ptr[j], net.reactant_ptr[j + 1]):
        c = x[net.reactant_species[p]]
        if net.reactant_order[p] == 1:
            a *= c
        else:
            a *= c * (c - 1)
        if a == 0.0:
            return 0.0
    for m in range(net.modifier_ptr[j], net.species_modifier_end[j]):  # input modifiers are folded into base
        kind = net.modifier_kind[m]
        c = np.float64(x[net.modifier_index[m]])
        if kind == 0:
            a *= c
        else:
            cn = _power(c, net.modifier_n[m], n_int[m])
            f = cn / (Kn[m] + cn) if kind == 1 else Kn[m] / (Kn[m] + cn)
            b = net.modifier_basal[m]
            a *= f if b == 0.0 else b + (1.0 - b) * f
    return a


@nb.njit(cache=True, inline="always", error_model="numpy")
def _input_factor(kind, value, K, n, n_int, basal):
    if kind == 3:
        return value
    vn = _power(value, n, n_int)
    Kn = _power(K, n, n_int)
    if kind == 4:
        f = vn / (Kn + vn) if Kn + vn > 0.0 else 0.0
    else:
        f = Kn / (Kn + vn)
    return basal + (1.0 - basal) * f


@nb.njit(cache=True, error_model="numpy")
def advance(X, rng_state, rows, volume, inputs, dt_h, rate_scale, clamped, net, events, fired, counted_reactions,
            counted, consumed):
    """Advance cells ``rows`` of ``X`` (molecule counts, modified in place) by ``dt_h`` hours.

    ``volume[k]`` and ``inputs[k]`` belong to ``rows[k]``; ``rate_scale[j]`` multiplies reaction j (inhibitors,
    knockouts); ``clamped[s]`` holds species s fixed. Outputs, added to: ``fired[j]`` the firings of reaction j
    in all listed cells; per listed cell, ``events[k]`` the events it fired (set), ``counted[k, i]`` the firings
    of reaction ``counted_reactions[i]`` and ``consumed[k, i]`` the real molecules of input i taken up
    (negative: given back).
    """
    advance_with(0, 0, X, rng_state, rows, volume, inputs, dt_h, rate_scale, clamped, net, events, fired,
                 counted_reactions, counted, consumed)


# Only the loop over chunks runs in parallel. With parallel=True numba made each array expression of the call
# (np.zeros, np.full, a product of two vectors) a parallel region of its own, and every region wakes the
# sleeping worker thread (OMP_WAIT_POLICY=passive): four more launches a call, ≈ 0.2 ms a tick of the assay.
# (An instance, not a dict: numba empties a dict of options as it reads it, so a second compilation would
# read none and parallelise everything again.)
_PRANGE_ONLY = ParallelOptions({"comprehension": False, "reduction": False, "inplace_binop": False,
                                "setitem": False, "numpy": False, "stencil": False, "fusion": False})


@nb.njit(cache=True, parallel=_PRANGE_ONLY, nogil=True, error_model="numpy")
def advance_with(propensities_address, event_address, X, rng_state, rows, volume, inputs, dt_h, rate_scale, clamped,
                 net, events, fired, counted_reactions, counted, consumed):
    """``advance``, with each reaction's propensity and each firing's updates computed by the machine code at
    the two addresses (``codegen``: code generated for this network) instead of from the arrays (0, 0)."""
    n_reactions = net.rate_constant.shape[0]
    n_modifiers = net.modifier_kind.shape[0]
    n_int = np.zeros(n_modifiers, dtype=np.int64)
    for m in range(n_modifiers):
        nm = net.modifier_n[m]
        if nm == np.floor(nm) and 0 < nm <= 8:
            n_int[m] = np.int64(nm)
    # what every cell of unit volume shares: constants times rate factors, Hill thresholds to the power n
    # (a loop, not an array expression: numba compiled that as a function of its own under the kernel's parallel
    # options, which found nothing to parallelise and warned so at every first compilation)
    base_unit = np.empty(n_reactions)
    for j in range(n_reactions):
        base_unit[j] = net.rate_constant[j] * rate_scale[j]
    Kn_unit = np.empty(n_modifiers)
    for m in range(n_modifiers):
        Kn_unit[m] = _power(net.modifier_K[m], net.modifier_n[m], n_int[m])
    # the distinct volume exponents (a network has two or three: -1, 1) and each reaction's (-1: none), so a
    # cell of another volume takes one power per exponent, not one per reaction (it was a third of the call)
    exponents = np.empty(n_reactions)
    exponent_of = np.full(n_reactions, -1, dtype=np.int64)
    n_exponents = 0
    for j in range(n_reactions):
        e = net.volume_exponent[j]
        if e == 0.0:
            continue
        for i in range(n_exponents):
            if exponents[i] == e:
                exponent_of[j] = i
        if exponent_of[j] < 0:
            exponents[n_exponents] = e
            exponent_of[j] = n_exponents
            n_exponents += 1
    exponents = exponents[:n_exponents]
    # the reactions an input modifies (four of rank's 96): all a cell of unit volume computes for itself
    input_reactions = np.empty(n_reactions, dtype=np.int64)
    n_input_reactions = 0
    for j in range(n_reactions):
        if net.species_modifier_end[j] < net.modifier_ptr[j + 1]:
            input_reactions[n_input_reactions] = j
            n_input_reactions += 1
    input_reactions = input_reactions[:n_input_reactions]
    # cells are cut into chunks of consecutive rows; each cell's result is its own whatever the chunk or the thread
    # that runs it. Consecutive, so a chunk reads the cells' counts and streams in the order they lie in memory,
    # which the processor's prefetcher follows (cells dealt to chunks by a stride of 64 rows made the assay's
    # kernel calls ≈ 2.5 % slower, measured in one run on alternating ticks).
    # Each thread takes the next chunk left until none is (a shared counter): a thread the system wakes late or
    # pauses (the worker sleeps between calls and starts ≈ 50 µs late, at times not within the call at all; a
    # browser or another run on the same cores) leaves its share to the others instead of holding the call up
    # by it, as a fixed split of the chunks did. Each chunk counts firings in a row of its own, which stays in
    # cache (a row per cell, written once per tick, cost a cache miss per reaction line at every call); integer
    # sums come out the same in any order.
    n_cells = rows.shape[0]
    n_chunks = min(n_cells, 64)
    n_counted = counted_reactions.shape[0]
    chunk_fired = np.zeros((n_chunks, n_reactions), dtype=np.int64)
    next_chunk = np.zeros(1, dtype=np.int64)
    # (each thread's first turn of the loop takes chunks until none is left; its other turns find none)
    for _ in nb.prange(n_chunks):
        c = take_next(next_chunk)
        if c >= n_chunks:
            continue
        base = np.empty(n_reactions)
        a = np.empty(n_reactions)
        Kn = np.empty(n_modifiers)
        volume_power = np.empty(n_exponents)
        before = np.empty(n_counted, dtype=np.int64)
        base_is_unit = False  # whether base holds the shared constants (bar the input reactions, set per cell)
        while c < n_chunks:
            cell_fired = chunk_fired[c]
            for k in range(c * n_cells // n_chunks, (c + 1) * n_cells // n_chunks):
                for i in range(n_counted):
                    before[i] = cell_fired[counted_reactions[i]]
                # a cell of unit volume writes only its input reactions into base: the shared constants are
                # copied once for a run of such cells, not for each (96 copies a cell, a tenth of a call's start)
                if volume[k] != 1.0:
                    base_is_unit = False
                elif not base_is_unit:
                    base[:] = base_unit
                    base_is_unit = True
                events[k] = _advance_cell(X[rows[k]], rng_state, rows[k], volume[k], inputs[k], dt_h, base_unit,
                                          Kn_unit, clamped, net, n_int, base, a, Kn, exponents, exponent_of,
                                          volume_power, input_reactions, cell_fired, consumed[k],
                                          propensities_address, event_address)
                for i in range(n_counted):
                    counted[k, i] += cell_fired[counted_reactions[i]] - before[i]
            c = take_next(next_chunk)
    for c in range(n_chunks):
        for j in range(n_reactions):
            fired[j] += chunk_fired[c, j]


@nb.njit(cache=True, inline="always", error_model="numpy")
def _times_inputs(b, j, inputs, net, n_int):
    """Reaction ``j``'s rate constant ``b`` times each of its input modifiers' factors, in their order."""
    for m in range(net.species_modifier_end[j], net.modifier_ptr[j + 1]):
        b *= _input_factor(net.modifier_kind[m], inputs[net.modifier_index[m]], net.modifier_K[m],
                           net.modifier_n[m], n_int[m], net.modifier_basal[m])
    return b


@nb.njit(cache=True, inline="always", error_model="numpy")
def _advance_cell(x, rng_state, row, vol, inputs, dt_h, base_unit, Kn_unit, clamped, net, n_int, base, a, Kn,
                  exponents, exponent_of, volume_power, input_reactions, fired, consumed, propensities_address,
                  event_address):
    n_reactions = net.rate_constant.shape[0]
    unit_volume = vol == 1.0
    if unit_volume:  # the shared constants (in base already: the caller's), then the few reactions an input
        Kn = Kn_unit  # modifies (the same products)
        for r in range(input_reactions.shape[0]):
            j = input_reactions[r]
            base[j] = _times_inputs(base_unit[j], j, inputs, net, n_int)
    else:  # Hill thresholds are concentrations: more molecules in a larger cell
        for m in range(Kn.shape[0]):
            Kn[m] = _power(net.modifier_K[m] * vol, net.modifier_n[m], n_int[m])
        for i in range(exponents.shape[0]):  # the same powers as per reaction, each computed once
            volume_power[i] = vol ** exponents[i]
        for j in range(n_reactions):
            b = base_unit[j]
            if exponent_of[j] >= 0:
                b *= volume_power[exponent_of[j]]
            base[j] = _times_inputs(b, j, inputs, net, n_int)
    generated = event_address != 0
    if generated:
        a0 = call_propensities(propensities_address, x, base, Kn, a)
    else:
        a0 = 0.0
        for j in range(n_reactions):
            a[j] = _propensity(j, x, base, Kn, n_int, net)
            a0 += a[j]
    # the stream in four locals for the whole call: the same numbers as drawing from rng_state each time
    s0, s1, s2, s3 = rng_state[row, 0], rng_state[row, 1], rng_state[row, 2], rng_state[row, 3]
    t = 0.0
    n_events = 0
    while True:
        if a0 <= 1e-300:
            a0 = _total(a)
            if a0 <= 1e-300:
                break
        u, s0, s1, s2, s3 = next_uniform_local(s0, s1, s2, s3)
        t += -np.log(1.0 - u) / a0
        if t >= dt_h:
            break
        # search in order of typical firing frequency (the optimised direct method): short scans
        u, s0, s1, s2, s3 = next_uniform_local(s0, s1, s2, s3)
        target = u * a0
        n_events += 1
        if generated:  # the search and the firing below, as straight-line code for this network
            a0 = call_event(event_address, target, x, a, a0, base, Kn, clamped, consumed, fired)
            if (n_events & 127) == 0:
                a0 = _total(a)
            continue
        i = 0
        j = net.search_order[0]
        acc = a[j]
        while acc <= target and i < n_reactions - 1:
            i += 1
            j = net.search_order[i]
            acc += a[j]
        while a[j] == 0.0 and i > 0:  # rounding at the top end: never fire an impossible reaction
            i -= 1
            j = net.search_order[i]
        a0 = _fire(j, x, a, a0, base, Kn, n_int, clamped, net, consumed)
        fired[j] += 1
        if (n_events & 127) == 0:  # re-sum now and then: incremental sums drift
            a0 = _total(a)
    rng_state[row, 0], rng_state[row, 1], rng_state[row, 2], rng_state[row, 3] = s0, s1, s2, s3
    return n_events


@nb.njit(cache=True, inline="always", error_model="numpy")
def _fire(j, x, a, a0, base, Kn, n_int, clamped, net, consumed):
    """Reaction ``j`` fires: its changes, its input use, and the propensities that depend on it (returns the
    new total, updated one dependent at a time)."""
    for p in range(net.change_ptr[j], net.change_ptr[j + 1]):
        s = net.change_species[p]
        if not clamped[s]:
            x[s] += net.change_delta[p]
    ci = net.consumed_input[j]
    if ci >= 0:
        consumed[ci] += net.consumed_molecules[j]
    for p in range(net.dependents_ptr[j], net.dependents_ptr[j + 1]):
        i = net.dependents[p]
        new = _propensity(i, x, base, Kn, n_int, net)
        a0 += new - a[i]
        a[i] = new
    return a0


@nb.njit(cache=True, inline="always", error_model="numpy")
def _total(a):
    total = 0.0
    for j in range(a.shape[0]):
        total += a[j]
    return total


@nb.njit(cache=True, inline="always", error_model="numpy")
def _popcount(v):
    v = v - ((v >> _U1) & _M1)
    v = (v & _M2) + ((v >> _U2) & _M2)
    v = (v + (v >> _U4)) & _M4
    return (v * _H01) >> _U56


@nb.njit(cache=True, inline="always")
def _heads(n, rng_state, row):
    """How many of ``n`` fair coins come up heads: an exact Binomial(n, 1/2), one random bit of the cell's
    stream per coin."""
    heads = 0
    left = n
    while left >= 64:
        heads += np.int64(_popcount(next_uint64(rng_state, row)))
        left -= 64
    if left > 0:
        mask = (_ONE << np.uint64(left)) - _ONE
        heads += np.int64(_popcount(next_uint64(rng_state, row) & mask))
    return heads


@nb.njit(cache=True)
def binomial(n, p, rng_state, row):
    """An exact Binomial(n, p) from the cell's stream, in about 2n/64 draws whatever p: each of the n trials
    succeeds if its uniform lies below p, and the uniforms' binary digits are drawn a level at a time for the
    trials still undecided (a trial whose digit differs from p's is decided by it; 2p and 2p − 1 are exact in
    floating point, so the recursion is exact to p's last bit)."""
    successes = 0
    while n > 0 and p > 0.0:
        if p >= 1.0:
            return successes + n
        low = _heads(n, rng_state, row)  # trials whose next digit is 0
        if p >= 0.5:  # below p whatever follows; the others go on against the rest of p
            successes += low
            n -= low
            p = 2.0 * p - 1.0
        else:  # a digit 1 puts the uniform above p
            n = low
            p = 2.0 * p
    return successes


@nb.njit(cache=True)
def split_molecules(X, rng_state, mothers, daughters, clamped):
    """Share each mother's molecules between her and her daughter: every molecule goes to either with
    probability 1/2 (an exact Binomial(n, 1/2) from random bits of the mother's stream). Clamped species
    keep their clamp in both."""
    for i in range(mothers.shape[0]):
        m, d = mothers[i], daughters[i]
        for s in range(X.shape[1]):
            n = X[m, s]
            if clamped[s]:
                X[d, s] = n
                continue
            half = _heads(n, rng_state, m)
            X[d, s] = half
            X[m, s] = n - half


@nb.njit(cache=True)
def shed_molecules(X, rng_state, rows, fraction, clamped):
    """Each cell of ``rows`` loses a ``fraction`` of its molecules (per cell), every molecule independently
    (an exact binomial from the cell's stream): the cytoplasm that leaves with extruded nuclei. Clamped species
    keep their clamp."""
    for i in range(rows.shape[0]):
        r = rows[i]
        for s in range(X.shape[1]):
            if not clamped[s]:
                X[r, s] -= binomial(X[r, s], fraction[i], rng_state, r)
