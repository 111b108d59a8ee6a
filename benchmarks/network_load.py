"""How long ``load_network`` takes in a fresh process: cold (no cached search order: the short simulation that
orders the kernel's search runs) and warm (the order read from the cache), and what compiling the network's
generated code adds (``codegen.compile_kernel``).

    .venv/bin/python benchmarks/network_load.py [--repeats 5] [NETWORK ...]

Each figure is the median over ``--repeats`` fresh interpreters (imports excluded), in a temporary cache
directory; the target for a warm load is 100 ms (issue 15).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from statistics import median

PROBE = """
import json, sys, time
from boneabm.signaling import codegen
from boneabm.signaling.network import load_network
start = time.perf_counter()
network = load_network(sys.argv[1])
loaded = time.perf_counter()
codegen.compile_kernel(network.arrays, network.spec.name)
print(json.dumps({"load_s": loaded - start, "compile_s": time.perf_counter() - loaded}))
"""


def probe(name: str, cache: str) -> dict:
    env = {**os.environ, "BONEABM_CACHE_DIR": cache}
    result = subprocess.run([sys.executable, "-c", PROBE, name], env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("networks", nargs="*", default=["rank", "osteoblast"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'network':<12} {'cold load s':>12} {'warm load ms':>13} {'code compile ms':>16}")
    for name in args.networks:
        cold, warm, compile_s = [], [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as cache:
                cold.append(probe(name, cache)["load_s"])
                again = probe(name, cache)
                warm.append(again["load_s"])
                compile_s.append(again["compile_s"])
        print(f"{name:<12} {median(cold):>12.2f} {1e3 * median(warm):>13.0f} {1e3 * median(compile_s):>16.0f}")


if __name__ == "__main__":
    main()
