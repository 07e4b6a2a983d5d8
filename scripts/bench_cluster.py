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
import time
from pathlib import Path
from typing import Dict, List, Optional

import yaml

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
    # every simulated shopper comes from 127.0.0.1: the per-address limit (meant for carrier NAT)
    # is raised for the benchmark only; per-conversation limits stay
    settings = yaml.safe_load((ROOT / "bot" / "shop.yml").read_text(encoding="utf-8"))
    settings["limits"]["messages_per_minute_client"] = 1_000_000
    (run / "shop.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    env = dict(os.environ, CLUSTER_RUN=str(run), SHOP_SETTINGS=str(run / "shop.yml"), CLUSTER_PORT=str(ports[0]), CLUSTER_ACTIONS_PORT=str(ports[1]),
               CLUSTER_REDIS_PORT=str(ports[2]),
               CLUSTER_RASA_PORTS=" ".join(map(str, ports[3:3 + replicas])),
               CLUSTER_ACTION_PORTS=" ".join(map(str, ports[3 + replicas:])),
               FOLLOWUP_INTERVAL_SECONDS="30")
    subprocess.run([str(ROOT / "deploy" / "cluster.sh"), action], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL if action == "stop" else None)
    env["URL"] = f"http://127.0.0.1:{ports[0]}/webhooks/rest/webhook"
    return env


async def widget_load(bases: List[str], concurrency: int, total_turns: int) -> Dict[str, float]:
    """Shoppers on the widget channel (Socket.IO long-polling), spread over the replicas as a
    balancer spreads many shoppers' addresses (nginx's ip_hash would send this one loopback address
    to one replica). A turn: the shopper's message sent, until the first bot message arrives."""
    import socketio

    latencies: List[float] = []
    remaining, errors = [total_turns], [0]

    async def shopper(worker: int) -> None:
        n = 0
        while remaining[0] > 0:
            script = bench.SCRIPTS[(worker + n) % len(bench.SCRIPTS)]
            n += 1
            client = socketio.AsyncClient(reconnection=False)
            answered: asyncio.Event = asyncio.Event()

            def on_message(entry: Dict) -> None:
                if entry.get("sender") == "bot":
                    answered.set()

            client.on("message", on_message)
            try:
                await client.connect(bases[worker % len(bases)], socketio_path="/widget/socket.io",
                                     transports=["polling"], wait_timeout=30)
                await client.call("hello", {}, timeout=30)
                for k, message in enumerate(script):
                    if remaining[0] <= 0:
                        break
                    remaining[0] -= 1
                    answered.clear()
                    start = time.perf_counter()
                    ack = await client.call("user_message", {"text": message, "cid": f"b{worker}x{n}x{k}"},
                                            timeout=30)
                    if "seq" not in ack:
                        errors[0] += 1
                        continue
                    try:
                        await asyncio.wait_for(answered.wait(), 60)
                    except asyncio.TimeoutError:
                        errors[0] += 1
                        continue
                    latencies.append(time.perf_counter() - start)
            except Exception:  # noqa: BLE001 - counted, the load goes on
                errors[0] += 1
            finally:
                await client.disconnect()

    started = time.perf_counter()
    await asyncio.gather(*(shopper(w) for w in range(concurrency)))
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"turns": len(latencies), "turns_per_s": len(latencies) / wall, "p50": pct(0.50), "p95": pct(0.95),
            "errors": errors[0]}


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
            bases = [f"http://127.0.0.1:{port}" for port in env["CLUSTER_RASA_PORTS"].split()]
            for concurrency in (10, 50):
                figures = asyncio.run(widget_load(bases, concurrency, max(100, turns // 4)))
                result[f"widget_c{concurrency}"] = figures
                print(f"  [{replicas} replica(s)] widget, {concurrency:>3} concurrent: {json.dumps(figures)}", flush=True)
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
    print("\n| widget (Socket.IO), concurrent | 1 replica turns/s | 2 replicas turns/s | p95 ms (1 / 2) | errors (1 / 2) |")
    print("| --- | --- | --- | --- | --- |")
    for c in (10, 50):
        one, two = results[1][f"widget_c{c}"], results[2][f"widget_c{c}"]
        print(f"| {c} | {one['turns_per_s']:.1f} | {two['turns_per_s']:.1f} | {one['p95']:.0f} / {two['p95']:.0f} "
              f"| {one['errors']} / {two['errors']} |")
    print("\nCPU ms per turn at 50 concurrent, per process:")
    for n in (1, 2):
        cpu = {k[7:]: v for k, v in results[n]["c50"].items() if k.startswith("cpu_ms_")}
        print(f"  {n} replica(s): {json.dumps(cpu)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
