"""Sale-day benchmark: scripted conversations over the demo orders through the REST channel.

Starts the servers itself (real actions, a freshly seeded SQLite database), on loopback,
and prints: server start time, turns/s at saturation, p50/p95/p99 latency at 1, 10 and 50
concurrent conversations, RSS of both servers, NLU parse rate and model load time, and the
held-out macro-F1 of the served model. With ``--baseline`` it does the same for the
plain `rasa init` configuration trained on the same data, and prints our figures as ratios.

It also trains our model first (`make train`: wall time and peak memory) and prints the
baseline's training figures from when it was trained (cached in models/baseline/).

    python scripts/bench.py [--baseline] [--turns 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "scripts"))

# Each conversation is what a shopper would really type; the proof follows the order number.
SCRIPTS: List[List[str]] = [
    ["你好", "我的订单1001000000000002到哪了", "0002", "谢谢"],
    ["在吗", "快递怎么还没到", "1001000000000003", "0003", "好的"],
    ["羊毛衫颜色跟图片差太多了", "1001000000000004", "0004", "照片发了", "拜拜"],
    ["我要退货", "1001000000000005", "0005", "谢谢"],
    ["1001000000000012", "0012", "什么时候到", "好的"],
    ["電吹風壞了能保修嗎", "1001000000000008", "0008", "多謝"],
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> List[int]:
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
        return [pid] + [int(p) for p in out.stdout.split()]
    except OSError:
        return [pid]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process and its children (s)."""
    total = 0.0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class Servers:
    """The action server and the Rasa server for one model, on free ports."""

    def __init__(self, model: Path, endpoints: str, credentials: str, workdir: Path,
                 extra_env: Optional[Dict[str, str]] = None, launcher: Optional[List[str]] = None):
        self.model, self.workdir = model, workdir
        self.launcher = launcher or [str(BIN / "python"), "-m", "bot.serve"]
        # every simulated shopper comes from 127.0.0.1: lift the per-address message limit (shop.yml
        # limits, issue #11) for the benchmark; the per-conversation limits stay as configured
        settings = workdir / "shop.yml"
        settings.write_text(re.sub(r"(?m)^(\s*messages_per_minute_client:).*$", r"\1 100000000",
                                   (ROOT / "bot" / "shop.yml").read_text(encoding="utf-8")), encoding="utf-8")
        self.env = dict(os.environ, DATABASE_URL=f"sqlite:///{workdir / 'shop.db'}", SHOP_SETTINGS=str(settings),
                        SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="2", **(extra_env or {}))
        self.actions_port, self.rasa_port = free_port(), free_port()
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(endpoints.replace(":5055/", f":{self.actions_port}/"))
        self.credentials = workdir / "credentials.yml"
        self.credentials.write_text(credentials)
        self.procs: List[subprocess.Popen] = []
        self.start_seconds = 0.0

    def start(self) -> None:
        subprocess.run([sys.executable, "-m", "bot", "db", "seed"], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        started = time.perf_counter()
        log = (self.workdir / "servers.log").open("w")
        self.procs.append(subprocess.Popen(
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.actions_port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        self.procs.append(subprocess.Popen(
            [*self.launcher, "run", "--model", str(self.model), "--endpoints", str(self.endpoints),
             "--credentials", str(self.credentials), "--port", str(self.rasa_port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        asyncio.run(self._wait_first_reply())
        self.start_seconds = time.perf_counter() - started

    async def _wait_first_reply(self) -> None:
        async with aiohttp.ClientSession() as session:
            for _ in range(1200):
                try:
                    async with session.post(self.url, json={"sender": "warmup", "message": "你好"}) as r:
                        if r.status == 200 and await r.json():
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.25)
        raise RuntimeError("servers did not answer; see " + str(self.workdir / "servers.log"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def cpu(self) -> Dict[str, float]:
        return {"rasa": cpu_seconds(self.procs[1].pid), "actions": cpu_seconds(self.procs[0].pid)}

    def rss(self) -> Dict[str, float]:
        return {"rasa": rss_mb(self.procs[1].pid), "actions": rss_mb(self.procs[0].pid)}

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


async def run_load(url: str, concurrency: int, total_turns: int) -> Dict[str, float]:
    """``concurrency`` shoppers each replaying scripted conversations until ``total_turns`` are done."""
    latencies: List[float] = []
    remaining = [total_turns]
    errors = [0]

    async def shopper(worker: int, session: aiohttp.ClientSession) -> None:
        n = 0
        while remaining[0] > 0:
            script = SCRIPTS[(worker + n) % len(SCRIPTS)]
            sender = f"bench-{concurrency}-{worker}-{n}-{time.monotonic_ns()}"
            n += 1
            for message in script:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                start = time.perf_counter()
                try:
                    async with session.post(url, json={"sender": sender, "message": message}) as r:
                        await r.read()
                        if r.status != 200:
                            errors[0] += 1
                except aiohttp.ClientError:
                    errors[0] += 1
                latencies.append(time.perf_counter() - start)

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(shopper(w, session) for w in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"turns": len(latencies), "turns_per_s": len(latencies) / wall, "p50": pct(0.50),
            "p95": pct(0.95), "p99": pct(0.99), "errors": errors[0]}


def measure(model: Path, endpoints: str, credentials: str, turns: int, label: str,
            launcher: Optional[List[str]] = None) -> Dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        servers = Servers(model, endpoints, credentials, Path(tmp), launcher=launcher)
        try:
            servers.start()
            result: Dict[str, object] = {"start_s": servers.start_seconds}
            for concurrency in (1, 10, 50):
                n = max(100, turns // 4) if concurrency == 1 else turns
                before = servers.cpu()
                result[f"c{concurrency}"] = asyncio.run(run_load(servers.url, concurrency, n))
                after = servers.cpu()
                # CPU per turn: independent of whatever else the machine is doing
                result[f"c{concurrency}"].update(
                    {f"cpu_ms_{k}": (after[k] - before[k]) * 1000 / n for k in after})
                print(f"  [{label}] {concurrency:>2} concurrent: {json.dumps(result[f'c{concurrency}'])}", flush=True)
            result["rss"] = servers.rss()
        finally:
            servers.stop()
    return result


def nlu_figures(model: Path, served: bool) -> Dict[str, float]:
    """NLU figures measured in a fresh process: with our serving fixes (``served``) or plain Rasa."""
    out = subprocess.run([sys.executable, __file__, "--nlu", str(model), *(["--served"] if served else [])],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _nlu_figures(model: Path, served: bool) -> Dict[str, float]:
    """Parse rate of the NLU alone, model load time, held-out macro-F1."""
    import logging

    if served:
        sys.path.insert(0, str(ROOT))
        from bot import serving

        serving.install()

    from rasa.utils.common import configure_logging_and_warnings

    configure_logging_and_warnings(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    import rasa.core.agent  # noqa: F401  (imports are not part of the model's load time)
    from eval_nlu import load_examples, predict
    from sklearn.metrics import f1_score

    examples = load_examples(ROOT / "tests" / "nlu" / "heldout.yml")
    texts, gold = [t for t, _ in examples], [i for _, i in examples]
    predictions, load_s, latency = asyncio.run(predict(model, texts))
    predicted = [served for served, _best, _confidence in predictions]  # what the server answers
    return {"load_s": load_s, "parses_per_s": 1 / latency if latency else 0.0,
            "heldout_macro_f1": f1_score(gold, predicted, labels=sorted(set(gold)), average="macro",
                                        zero_division=0)}


BASELINE_CONFIG = """# The configuration `rasa init` suggests (its commented default pipeline and policies),
# with the one change Chinese needs: JiebaTokenizer instead of WhitespaceTokenizer,
# which refuses language zh.
recipe: default.v1
language: zh
assistant_id: baseline
pipeline:
  - name: JiebaTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 100
    constrain_similarities: true
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
  - name: UnexpecTEDIntentPolicy
    max_history: 5
    epochs: 100
  - name: TEDPolicy
    max_history: 5
    epochs: 100
    constrain_similarities: true
"""


# rasa init's endpoints.yml (the action server only) and the REST channel: Rasa's default
# serving, with none of our code in the Rasa process.
BASELINE_ENDPOINTS = "action_endpoint:\n  url: http://localhost:5055/webhook\n"
BASELINE_CREDENTIALS = "rest:\n"


def timed(cmd: List[str]) -> Dict[str, float]:
    """Run ``cmd``; its wall time (s) and the peak resident memory of the process tree's largest member (MB)."""
    import resource

    started = time.perf_counter()
    if Path("/usr/bin/time").exists():
        proc = subprocess.run(["/usr/bin/time", "-f", "BENCH %M", *cmd], cwd=ROOT, stderr=subprocess.PIPE,
                              text=True)
        wall = time.perf_counter() - started
        if proc.returncode:
            sys.stderr.write(proc.stderr[-3000:])
            raise SystemExit(f"failed: {' '.join(cmd)}")
        peak_kb = int(proc.stderr.rsplit("BENCH ", 1)[1].split()[0])
    else:
        subprocess.run(cmd, cwd=ROOT, check=True)
        wall = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_s": wall, "peak_mb": peak_kb / 1024}


def train_ours() -> Dict[str, float]:
    """`make train`: the full data, the project's config, timed."""
    figures = timed(["scripts/train_if_needed.sh", "--force"])
    print(f"  [ours] trained in {figures['wall_s']:.0f} s, peak {figures['peak_mb']:.0f} MB", flush=True)
    return figures


def baseline_model() -> Tuple[Path, Dict[str, float]]:
    """Rasa's default configuration trained on our data (cached with its training figures)."""
    out = ROOT / "models" / "baseline"
    model = out / "baseline.tar.gz"
    config = out / "config.yml"
    figures_file = out / "train.json"
    if model.exists() and figures_file.exists() and config.exists() and config.read_text() == BASELINE_CONFIG:
        return model, json.loads(figures_file.read_text())
    out.mkdir(parents=True, exist_ok=True)
    config.write_text(BASELINE_CONFIG)
    figures = timed([str(BIN / "rasa"), "train", "--config", str(config), "--domain", "domain.yml",
                     "--data", "data", "--out", str(out), "--fixed-model-name", "baseline", "--quiet"])
    figures_file.write_text(json.dumps(figures))
    print(f"  [baseline] trained in {figures['wall_s']:.0f} s, peak {figures['peak_mb']:.0f} MB", flush=True)
    return model, figures


def print_table(ours: Dict, base: Optional[Dict]) -> None:
    def row(name: str, value: float, base_value: Optional[float], unit: str, higher_better: bool) -> None:
        ratio = ""
        if base_value:
            r = value / base_value if higher_better else base_value / value if value else 0
            ratio = f"{r:.2f}x better" if r >= 1 else f"{1 / r:.2f}x worse" if r else ""
        b = f"{base_value:.1f} {unit}" if base_value is not None else "-"
        print(f"| {name} | {value:.1f} {unit} | {b} | {ratio} |")

    print("\n| figure | ours | rasa init baseline | ratio |\n| --- | --- | --- | --- |")
    g = (lambda *keys: _dig(base, keys)) if base else (lambda *keys: None)
    row("server start", ours["start_s"], g("start_s"), "s", False)
    row("turns/s at saturation (50 concurrent)", ours["c50"]["turns_per_s"], g("c50", "turns_per_s"), "/s", True)
    for c in (1, 10, 50):
        for p in ("p50", "p95", "p99"):
            row(f"{p} latency, {c} concurrent", ours[f"c{c}"][p], g(f"c{c}", p), "ms", False)
    row("CPU per turn, Rasa server (50 concurrent)", ours["c50"]["cpu_ms_rasa"], g("c50", "cpu_ms_rasa"), "ms",
        False)
    row("CPU per turn, action server (50 concurrent)", ours["c50"]["cpu_ms_actions"], g("c50", "cpu_ms_actions"),
        "ms", False)
    row("RSS Rasa server", ours["rss"]["rasa"], g("rss", "rasa"), "MB", False)
    row("RSS action server", ours["rss"]["actions"], g("rss", "actions"), "MB", False)
    row("NLU parses/s", ours["nlu"]["parses_per_s"], g("nlu", "parses_per_s"), "/s", True)
    row("NLU model load", ours["nlu"]["load_s"], g("nlu", "load_s"), "s", False)
    row("training: wall time", ours["train"]["wall_s"], g("train", "wall_s"), "s", False)
    row("training: peak memory", ours["train"]["peak_mb"], g("train", "peak_mb"), "MB", False)
    print(f"| held-out macro-F1 | {ours['nlu']['heldout_macro_f1']:.3f} | "
          f"{(base or {}).get('nlu', {}).get('heldout_macro_f1', float('nan')):.3f} | |")


def _dig(d: Optional[Dict], keys: tuple) -> Optional[float]:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, Python {sys.version.split()[0]}"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--nlu", type=Path, help=argparse.SUPPRESS)  # internal: NLU figures of one model
    parser.add_argument("--served", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-tracker-store", action="store_true",
                        help="serve ours with Rasa's in-memory tracker store, to measure what persistence costs")
    args = parser.parse_args(argv)
    if args.nlu:
        print(json.dumps(_nlu_figures(args.nlu, args.served)))
        return 0
    model = ROOT / "models" / "assistant.tar.gz"
    print(f"machine: {machine()}", flush=True)
    train = train_ours()
    endpoints = (ROOT / "endpoints.yml").read_text()
    if args.memory_tracker_store:  # drop the tracker_store block: conversations in memory only
        endpoints = re.sub(r"(?m)^tracker_store:\n(?:[ \t]+.*\n?)*", "", endpoints)
        assert not re.search(r"(?m)^tracker_store:", endpoints)
    ours = measure(model, endpoints, (ROOT / "credentials.yml").read_text(), args.turns, "ours")
    ours["train"] = train
    ours["nlu"] = nlu_figures(model, served=True)
    base = None
    if args.baseline:
        bmodel, btrain = baseline_model()
        base = measure(bmodel, BASELINE_ENDPOINTS, BASELINE_CREDENTIALS, args.turns, "baseline",
                       launcher=[str(BIN / "rasa")])
        base["train"] = btrain
        base["nlu"] = nlu_figures(bmodel, served=False)
    print(f"\nmachine: {machine()}")
    print_table(ours, base)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "bench.json").write_text(
        json.dumps({"machine": machine(), "ours": ours, "baseline": base}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
