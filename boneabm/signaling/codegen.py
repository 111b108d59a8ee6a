"""Machine code generated for one network: the search for the reaction that fires, each reaction's firing and
every propensity as straight-line code, which the SSA kernel calls instead of reading them from the network's
arrays.

The generic kernel (``ssa._propensity``, ``ssa._fire``) walks a reaction's reactants, modifiers, changes and
dependents through CSR arrays and branches on every modifier's kind at every event. Here they are constants of
the code: an event is a scan unrolled in search order, then a jump to the chosen reaction's block, which applies
its changes, recomputes the propensities that depend on it and counts the firing, nothing else.

The code is LLVM IR written from the compiled network and compiled by LLVM at -O3 (through llvmlite, numba's
own backend) in well under a second, then kept as machine code in the on-disk cache for later processes.
Writing it as Python for numba to compile worked too, but numba took 2-6 minutes to compile the rank network's
331 dependent updates; the loop around it (``ssa.advance_with``) stays numba code, compiled and cached once for
every network, and calls this code by address (``native``).

The arithmetic is the generic kernel's operation for operation and in the same order: the same products
left to right (a count converted to a double before it multiplies, x·(x−1) as integers), Hill factors from
repeated products for whole exponents up to 8 and ``pow`` otherwise, the same incremental total, the same
comparisons in the search. No fast-math flag is set, so LLVM may not reorder or fuse them, and both ways give
byte-identical results for the same seed (tests/test_codegen.py checks every shipped network and random ones).
Left out is only the generic kernel's early exit from a product that has become zero, which cannot change a
product of finite non-negative factors.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from boneabm import cache
from boneabm.files import write_atomically
from boneabm.signaling import ssa

if TYPE_CHECKING:
    from boneabm.signaling.network import KernelArrays, Network


def _double(value: float) -> str:
    """A double constant exactly (LLVM's hexadecimal form of the IEEE bits)."""
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", float(value)))[0]


class _Block:
    """Instructions of one function body, each value named once."""

    def __init__(self, prefix: str):
        self.prefix, self.count, self.lines = prefix, 0, []

    def __call__(self, instruction: str) -> str:
        self.count += 1
        name = f"%{self.prefix}{self.count}"
        self.lines.append(f"  {name} = {instruction}")
        return name

    def do(self, instruction: str) -> None:
        self.lines.append(f"  {instruction}")

    def load(self, kind: str, array: str, index: int) -> str:
        pointer = self(f"getelementptr inbounds {kind}, ptr %{array}, i64 {index}")
        return self(f"load {kind}, ptr {pointer}")

    def store(self, kind: str, value: str, array: str, index: int) -> None:
        pointer = self(f"getelementptr inbounds {kind}, ptr %{array}, i64 {index}")
        self.do(f"store {kind} {value}, ptr {pointer}")

    def count_as_double(self, species: int) -> str:
        return self(f"sitofp i64 {self.load('i64', 'x', species)} to double")


def _propensity(block: _Block, arrays: KernelArrays, j: int) -> str:
    """Reaction ``j``'s propensity, as ``ssa._propensity`` computes it."""
    s = int(arrays.simple_species[j])
    product = block.load("double", "base", j)
    if s >= 0:
        return block(f"fmul double {product}, {block.count_as_double(s)}")
    for p in range(arrays.reactant_ptr[j], arrays.reactant_ptr[j + 1]):
        species = int(arrays.reactant_species[p])
        if arrays.reactant_order[p] == 1:
            factor = block.count_as_double(species)
        else:
            count = block.load("i64", "x", species)
            less_one = block(f"sub i64 {count}, 1")
            pairs = block(f"mul i64 {count}, {less_one}")
            factor = block(f"sitofp i64 {pairs} to double")
        product = block(f"fmul double {product}, {factor}")
    for m in range(arrays.modifier_ptr[j], arrays.species_modifier_end[j]):
        kind = int(arrays.modifier_kind[m])
        c = block.count_as_double(int(arrays.modifier_index[m]))
        if kind == 0:
            product = block(f"fmul double {product}, {c}")
            continue
        n = float(arrays.modifier_n[m])
        if n == np.floor(n) and 0 < n <= 8:  # ssa._power: 1.0·c, then ·c again, n times
            cn = c
            for _ in range(int(n) - 1):
                cn = block(f"fmul double {cn}, {c}")
        else:
            cn = block(f"call double @llvm.pow.f64(double {c}, double {_double(n)})")
        Kn = block.load("double", "Kn", m)
        total = block(f"fadd double {Kn}, {cn}")
        f = block(f"fdiv double {cn if kind == 1 else Kn}, {total}")
        b = float(arrays.modifier_basal[m])
        if b != 0.0:
            scaled = block(f"fmul double {_double(1.0 - b)}, {f}")
            f = block(f"fadd double {_double(b)}, {scaled}")
        product = block(f"fmul double {product}, {f}")
    return product


def kernel_ir(arrays: KernelArrays, name: str = "network") -> str:
    """The LLVM IR of the two functions ``native`` calls, for the network compiled into ``arrays``:
    ``propensities`` (every reaction's, and their total) and ``event`` (which reaction a uniform ``target``
    in [0, a0) selects, and its firing)."""
    n_r = len(arrays.rate_constant)
    order = [int(j) for j in arrays.search_order]
    props = _Block("v")
    total = "0.0"
    for j in range(n_r):
        value = _propensity(props, arrays, j)
        props.store("double", value, "a", j)
        total = props(f"fadd double {total}, {value}")
    lines = [f"; propensities and events of the network {name!r}, generated by boneabm.signaling.codegen",
             "declare double @llvm.pow.f64(double, double)", "",
             "define double @propensities(ptr %x, ptr %base, ptr %Kn, ptr %a) {", "entry:", *props.lines,
             f"  ret double {total}", "}", "",
             "define double @event(double %target, ptr %x, ptr %a, double %a0, ptr %base, ptr %Kn, ptr %clamped, "
             "ptr %consumed, ptr %fired) {", "entry:", "  br label %s0"]
    # the search of ssa._advance_cell, unrolled in search order: add the next propensity while the running sum
    # is at most the target (and reactions remain) ...
    for k, j in enumerate(order):
        lines += [f"s{k}:", f"  %sp{k} = getelementptr inbounds double, ptr %a, i64 {j}"]
        if k == 0:
            lines.append("  %acc0 = load double, ptr %sp0")
        else:
            lines += [f"  %sv{k} = load double, ptr %sp{k}", f"  %acc{k} = fadd double %acc{k - 1}, %sv{k}"]
        if k < n_r - 1:
            lines += [f"  %go{k} = fcmp ole double %acc{k}, %target", f"  br i1 %go{k}, label %s{k + 1}, label %b{k}"]
        else:
            lines.append(f"  br label %b{k}")
    # ... then step back over reactions that cannot fire (rounding at the top end), and fire the one found
    for k, j in enumerate(order):
        block = _Block(f"b{k}_")
        if k > 0:
            impossible = block(f"fcmp oeq double {block.load('double', 'a', j)}, 0.0")
            lines += [f"b{k}:", *block.lines, f"  br i1 {impossible}, label %b{k - 1}, label %r{j}"]
        else:
            lines += [f"b{k}:", f"  br label %r{j}"]
    for j in range(n_r):
        block = _Block(f"r{j}_")
        for p in range(arrays.change_ptr[j], arrays.change_ptr[j + 1]):
            s, delta = int(arrays.change_species[p]), int(arrays.change_delta[p])
            pointer = block(f"getelementptr inbounds i64, ptr %x, i64 {s}")
            old = block(f"load i64, ptr {pointer}")
            held = block(f"icmp ne i8 {block.load('i8', 'clamped', s)}, 0")
            changed = block(f"add i64 {old}, {delta}")
            block.do(f"store i64 {block(f'select i1 {held}, i64 {old}, i64 {changed}')}, ptr {pointer}")
        ci = int(arrays.consumed_input[j])
        if ci >= 0:
            used = block(f"fadd double {block.load('double', 'consumed', ci)}, "
                         f"{_double(arrays.consumed_molecules[j])}")
            block.store("double", used, "consumed", ci)
        a0 = "%a0"
        for p in range(arrays.dependents_ptr[j], arrays.dependents_ptr[j + 1]):
            i = int(arrays.dependents[p])
            new = _propensity(block, arrays, i)
            change = block(f"fsub double {new}, {block.load('double', 'a', i)}")
            a0 = block(f"fadd double {a0}, {change}")
            block.store("double", new, "a", i)
        block.store("i64", block(f"add i64 {block.load('i64', 'fired', j)}, 1"), "fired", j)
        lines += [f"r{j}:", *block.lines, f"  ret double {a0}"]
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CompiledKernel:
    """A network's generated code, loaded in this process (kept alive by this object's engine)."""

    engine: object
    propensities_address: int
    event_address: int


_COMPILED: dict[str, CompiledKernel] = {}  # SHA-256 of the IR -> its code in this process
CACHE_KIND = "kernels"


def compile_kernel(arrays: KernelArrays, name: str = "network") -> CompiledKernel:
    """Compile (once per process and network) the code ``kernel_ir`` writes for ``arrays``; the machine code
    is kept in the on-disk cache (``boneabm.cache``), keyed by the IR and by the LLVM version and host CPU it
    was compiled for, so a later process (a sweep's worker, the next run) loads it instead of compiling."""
    text = kernel_ir(arrays, name)
    ir_key = hashlib.sha256(text.encode()).hexdigest()
    compiled = _COMPILED.get(ir_key)
    if compiled is None:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        cpu, features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
        machine = llvm.Target.from_default_triple().create_target_machine(cpu=cpu, features=features, opt=3)
        host = f"{llvm.llvm_version_info} {machine.triple} {cpu} {features}"
        stored = cache.entry_path(CACHE_KIND, hashlib.sha256(f"{text}\n{host}".encode()).hexdigest()) \
            .with_suffix(".o")
        module = llvm.parse_assembly(text)
        module.verify()
        if not stored.is_file():
            # -O3 without fast-math: loads shared by a block's updates are read once, no arithmetic changes
            passes = llvm.create_pass_builder(machine, llvm.create_pipeline_tuning_options(speed_level=3))
            passes.getModulePassManager().run(module, passes)
        engine = llvm.create_mcjit_compiler(module, machine)
        engine.set_object_cache(partial(_store_object, stored), partial(_stored_object, stored))
        engine.finalize_object()
        compiled = _COMPILED[ir_key] = CompiledKernel(engine, engine.get_function_address("propensities"),
                                                      engine.get_function_address("event"))
    return compiled


def _store_object(path: Path, module, data: bytes) -> None:
    """Keep freshly compiled machine code; a cache that cannot be written is skipped (it must never fail a run)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
    except OSError:
        pass


def _stored_object(path: Path, module) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


_BY_ARRAYS: dict[int, tuple[KernelArrays, CompiledKernel]] = {}  # id(arrays) -> (arrays, their code)


def kernel(network: Network):
    """``ssa.advance`` for ``network`` with its generated code: the same signature and results. A network
    already seen in this process skips writing and hashing its IR (16 ms for rank) at every model or batch."""
    seen = _BY_ARRAYS.get(id(network.arrays))
    if seen is not None and seen[0] is network.arrays:
        compiled = seen[1]
    else:
        compiled = compile_kernel(network.arrays, network.spec.name)
        _BY_ARRAYS[id(network.arrays)] = (network.arrays, compiled)  # holding the arrays keeps their id theirs
    advance = partial(ssa.advance_with, compiled.propensities_address, compiled.event_address)

    def one_at_a_time(*args) -> None:
        with _LAUNCHING:
            advance(*args)

    return one_at_a_time


# The kernel runs without the GIL (the app's threads run beside it), so two threads of one process (two pages of
# an app server, runs started from a thread pool) could launch it at once: numba's fallback threading layer
# (workqueue, where no OpenMP or TBB is found) aborts on that, and on two cores the launches would only share them.
_LAUNCHING = threading.Lock()
