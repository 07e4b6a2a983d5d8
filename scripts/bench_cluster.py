"""make bench-cluster: the REST load of `make bench` through the balancer, two replicas vs one.

Starts `deploy/cluster.sh` twice in one run (one Rasa replica + one action server, then two of
each), both behind nginx with PostgreSQL and Redis, drives 1, 10, 50 and 200 concurrent scripted
conversations through the balancer, and prints turns/s, latency percentiles, errors and the CPU
milliseconds per turn of every process: the figure that predicts scaling on more cores (on a
2-core machine two replicas compete for the same cores, so they need not be faster here).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)  # type: ignore[union-attr]


def free_ports(n: int) -> List[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def cluster(run: Path, replicas: int, action: str) -> Dict[str, str]:
    ports = free_ports(3 + 2 * replicas)
    env = dict(os.environ, CLUSTER_RUN=str(run), CLUSTER_PORT=str(ports[0]), CLUSTER_ACTIONS_PORT=str(ports[1]),
               CLUSTER_REDIS_PORT=str(ports[2]),
               CLUSTER_RASA_PORTS=" ".join(map(str, ports[3:3 + replicas])),
               CLUSTER_ACTION_PORTS=" ".join(map(str, ports[3 + replicas:])),
               FOLLOWUP_INTERVAL_SECONDS="30")
    subprocess.run([str(ROOT / "deploy" / "cluster.sh"), action], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL if action == "stop" else None)
    env["URL"] = f"http://127.0.0.1:{ports[0]}/webhooks/rest/webhook"
    return env


def cpu_by_process(run: Path) -> Dict[str, float]:
    return {p.stem: bench.cpu_seconds(int(p.read_text())) for p in sorted(run.glob("*.pid"))
            if p.stem.startswith(("rasa", "actions", "redis", "nginx"))}


def measure(replicas: int, turns: int) -> Dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="cluster-") as tmp:
        run = Path(tmp)
        env = cluster(run, replicas, "start")
        result: Dict[str, object] = {}
        try:
            for concurrency in (1, 10, 50, 200):
                n = max(100, turns // 4) if concurrency == 1 else turns
                before = cpu_by_process(run)
                figures = asyncio.run(bench.run_load(env["URL"], concurrency, n))
                after = cpu_by_process(run)
                figures.update({f"cpu_ms_{k}": round((after[k] - before.get(k, 0)) * 1000 / n, 2) for k in after})
                result[f"c{concurrency}"] = figures
                print(f"  [{replicas} replica(s)] {concurrency:>3} concurrent: {json.dumps(figures)}", flush=True)
        finally:
            cluster(run, replicas, "stop")
    return result


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000)
    args = parser.parse_args(argv)
    print(bench.machine())
    results = {n: measure(n, args.turns) for n in (1, 2)}
    print("\n| concurrent | 1 replica turns/s | 2 replicas turns/s | p95 ms (1 / 2) | errors (1 / 2) |")
    print("| --- | --- | --- | --- | --- |")
    for c in (1, 10, 50, 200):
        one, two = results[1][f"c{c}"], results[2][f"c{c}"]
        print(f"| {c} | {one['turns_per_s']:.1f} | {two['turns_per_s']:.1f} | {one['p95']:.0f} / {two['p95']:.0f} "
              f"| {one['errors']} / {two['errors']} |")
    print("\nCPU ms per turn at 50 concurrent, per process:")
    for n in (1, 2):
        cpu = {k[7:]: v for k, v in results[n]["c50"].items() if k.startswith("cpu_ms_")}
        print(f"  {n} replica(s): {json.dumps(cpu)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
