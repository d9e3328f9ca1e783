"""Benchmark: how much concurrent live reading speeds up `plan`, measured in one run.

    python tests/benchmark.py [--schemas 10 --models 10]

Starts a real sandbox server, creates one catalog with SCHEMAS schemas of MODELS models each
(all with grants), then times reading live state for plan with 16 requests in flight against
one at a time. Prints the figures and their ratio; asserts nothing (shared, noisy machines).
"""

from __future__ import annotations

import argparse
import resource
import socket
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ucgov import sandbox
from ucgov.live import read_live
from ucgov.planner import diff
from ucgov.spec import load_texts
from ucgov.state import Kind

USER = "bench@example.com"


def spec_text(schemas: int, models: int) -> str:
    lines = [
        "catalogs:",
        "  bench:",
        "    comment: benchmark",
        f"    grants: {{{USER}: [USE CATALOG]}}",
        "    schemas:",
    ]
    for s in range(schemas):
        lines += [f"      s{s}:", f"        grants: {{{USER}: [USE SCHEMA]}}", "        models:"]
        lines += [f"          m{m}: {{comment: model, grants: {{{USER}: [EXECUTE]}}}}" for m in range(models)]
    return "\n".join(lines) + "\n"


def seed(server: sandbox.Sandbox, desired) -> None:
    with server.client() as client, ThreadPoolExecutor(16) as pool:
        for depth in (1, 2, 3):  # parents before children
            level = [o for o in desired.ordered() if o.kind.depth == depth]
            list(pool.map(lambda o: client.create_securable(o.kind, o.full_name, {}), level))
        grant = [{"principal": USER, "add": ["EXECUTE"], "remove": []}]
        models = [o for o in desired.ordered() if o.kind is Kind.MODEL]
        list(pool.map(lambda o: client.update_grants(o.kind, o.full_name, grant), models))


def timed_plans(server: sandbox.Sandbox, desired, concurrency: int, rounds: int) -> list[float]:
    times = []
    with server.client() as client:
        for _ in range(rounds):
            start = time.perf_counter()
            diff(desired, read_live(client, desired, concurrency=concurrency))
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=int, default=10)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as base:
        server = sandbox.start(port, users=[USER], base=Path(base))
        try:
            desired = load_texts([("bench.yaml", spec_text(args.schemas, args.models))], variables={})
            seed(server, desired)
            requests = 2 * len(desired.objects) + 1
            serial = timed_plans(server, desired, 1, args.rounds)
            parallel = timed_plans(server, desired, 16, args.rounds)
        finally:
            sandbox.stop(port, base=Path(base))
    s_med, p_med = statistics.median(serial), statistics.median(parallel)
    print(f"objects: {len(desired.objects)}  requests per plan: {requests}  rounds: {args.rounds}")
    print(f"plan, 1 request in flight:   median {s_med * 1000:.0f} ms")
    print(f"plan, 16 requests in flight: median {p_med * 1000:.0f} ms")
    print(f"speed-up (1 / 16 in flight): {s_med / p_med:.2f}x")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
