"""The cluster's endpoints: the project's endpoints.yml with the replicas' shared parts.

    python -m bot.cluster.config endpoints.yml var/cluster/endpoints.yml \\
        --actions http://127.0.0.1:5055/webhook --redis-port 6380

Actions go through the balancer, and conversation locks live in Redis (``AtomicRedisLockStore``)
so two replicas never handle one conversation at once. Everything else (the tracker store on
DATABASE_URL, the NLG) is kept as the single-server file has it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from ruamel.yaml import YAML


def cluster_endpoints(source: Path, actions_url: str, redis_host: str, redis_port: int) -> dict:
    yaml = YAML()
    data = yaml.load(source.read_text(encoding="utf-8"))
    data["action_endpoint"]["url"] = actions_url
    data["lock_store"] = {
        "type": "bot.cluster.lock_store.AtomicRedisLockStore",
        "url": redis_host,
        "port": redis_port,
    }
    return data


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--actions", required=True, help="the action servers' balancer URL")
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    args = parser.parse_args(argv)
    data = cluster_endpoints(args.source, args.actions, args.redis_host, args.redis_port)
    with args.target.open("w", encoding="utf-8") as out:
        YAML().dump(data, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
