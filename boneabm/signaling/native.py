"""Calls from the SSA kernel into machine code generated for one network (``codegen``), by address, and the one
atomic instruction its threads share.

The address is an argument, not a constant of the kernel, so numba compiles and caches the kernel once for
every network; LLVM compiles each network's code (``codegen.compile_kernel``). Both functions take the data
of numba arrays: counts ``x`` (int64), propensities ``a``, rate constants ``base`` and Hill thresholds ``Kn``
(float64), ``clamped`` (bool, one byte each) and ``consumed`` (float64).
"""

from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic


def _call(context, builder, signature, args, returns):
    """Call the function at ``args[0]`` with the other arguments, arrays passed as their data pointers."""
    values = []
    for ty, value in zip(signature.args[1:], args[1:]):
        values.append(context.make_array(ty)(context, builder, value).data if isinstance(ty, types.Array)
                      else value)
    function_type = ir.FunctionType(returns, [value.type for value in values])
    return builder.call(builder.inttoptr(args[0], function_type.as_pointer()), values)


@intrinsic
def call_propensities(typingctx, address, x, base, Kn, a):
    """``a[j]`` = reaction j's propensity for every j; returns their sum, added in order of j."""
    def codegen(context, builder, signature, args):
        return _call(context, builder, signature, args, ir.DoubleType())
    return types.float64(address, x, base, Kn, a), codegen


@intrinsic
def call_event(typingctx, address, target, x, a, a0, base, Kn, clamped, consumed, fired):
    """The event a uniform ``target`` in [0, a0) selects (the search of ``ssa._advance_cell``), fired as
    ``ssa._fire`` fires it and counted in ``fired``: returns the new total propensity."""
    def codegen(context, builder, signature, args):
        return _call(context, builder, signature, args, ir.DoubleType())
    return types.float64(address, target, x, a, a0, base, Kn, clamped, consumed, fired), codegen


@intrinsic
def take_next(typingctx, counter):
    """Add one to ``counter[0]`` atomically and return the value it had: the next piece of work, each value taken
    by exactly one thread whatever the threads' order."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.atomic_rmw("add", data, ir.Constant(ir.IntType(64), 1), "monotonic")
    return types.int64(counter), codegen
