"""boneabm: a stochastic agent-based bone remodeling simulator.

Notebook use::

    import boneabm
    result = boneabm.run("mcsf_culture", seed=1)   # a shipped example, or a YAML path
    result.timeseries.plot(x="time_h", y="n_precursors")
    again = boneabm.load_run(result.path)
    arm = boneabm.fork("runs/.../checkpoints/checkpoint-000072.000h.npz", ["doses=[{drug: opg_fc, ng_ml: 100, at_h: 72}]"])
"""

from boneabm.version import __version__

__all__ = ["Run", "fork", "load_run", "resume", "run", "__version__"]


def __getattr__(name: str):
    # imported on first use: a process that only parses arguments or spawns sweep workers stays light, and
    # numba is first imported where NUMBA_NUM_THREADS has its final value
    if name in ("Run", "fork", "load_run", "resume", "run"):
        from boneabm import api

        return getattr(api, name)
    raise AttributeError(f"module 'boneabm' has no attribute {name!r}")
