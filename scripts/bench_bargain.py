"""Simulated shoppers haggle with the compensation engine (bot.bargain); prints how it fares.

In the spirit of CraigslistBargain's rule-based agents: each shopper has a hidden minimum
they would accept and a patience (rounds before giving up), and one of several styles:
takes the first offer, haggles down by fixed steps, only says "再加点", asks to double,
demands absurd sums, or writes Chinese numerals / Traditional script. Items are demo-like
(prices 30-6000 元, margins 20-60%, random routes and issue kinds).

Prints the deal rate (of all negotiations, and "reach": of those whose shopper's hidden
minimum was within the ceiling, i.e. where a deal was possible at all), the average payout as a share of the ceiling, the average rounds,
how often the margin floor was touched, an estimated cost per case (a failed negotiation
ends in a return with shop-paid shipping) and a breakdown by shopper type.

    python scripts/bench_bargain.py [--n 5000] [--seed 1] [--set concessions=0.5,0.8,1 ...]
"""

from __future__ import annotations

import argparse
import collections
import math
import random
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import bargain  # noqa: E402
from bot.bargain.plan import route_band  # noqa: E402
from bot.text import to_traditional  # noqa: E402

ROUTES = [("same_city", 0.2), ("same_province", 0.3), ("other_province", 0.5)]
KINDS = ["color_mismatch", "small_flaw", "size_slightly_off", "service_fault"]
ITEMS = ["连衣裙", "运动鞋", "保温杯", "羊毛衫", "牛仔裤", "羊绒大衣", "蓝牙耳机", "电吹风", "笔记本电脑"]
TYPES = [
    ("accepter", 0.15),
    ("stepper", 0.25),
    ("more_asker", 0.15),
    ("doubler", 0.05),
    ("absurd", 0.10),
    ("numerals", 0.15),
    ("traditional", 0.15),
]
CN = {
    5: "五",
    8: "八",
    10: "十",
    12: "十二",
    15: "十五",
    18: "十八",
    20: "二十",
    25: "二十五",
    30: "三十",
    35: "三十五",
    40: "四十",
    45: "四十五",
    50: "五十",
    60: "六十",
    80: "八十",
    100: "一百",
    200: "两百",
}


@dataclass
class Shopper:
    """A simulated shopper: hidden minimum, patience and haggling style."""

    style: str
    minimum: Decimal
    patience: int
    ask: Decimal
    step: Decimal

    def wants(self, offer: Optional[Decimal]) -> bool:
        return offer is not None and offer > 0 and offer >= self.minimum


def _weighted(rng: random.Random, table: List[Tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def make_item(rng: random.Random) -> Dict:
    """A demo-like item: log-uniform price, margin 20-60%, a route, an issue."""
    price = Decimal(int(math.exp(rng.uniform(math.log(30), math.log(6000)))))
    cost = (price * Decimal(1 - rng.uniform(0.2, 0.6))).quantize(Decimal(1))
    return {
        "price": price,
        "cost": cost,
        "route": _weighted(rng, ROUTES),
        "kind": rng.choice(KINDS),
        "severity": "moderate" if rng.random() < 0.3 else "minor",
        "item_name": rng.choice(ITEMS),
    }


def make_shopper(rng: random.Random, price: Decimal) -> Shopper:
    """Hidden minimum: roughly one-way shipping, more for dear items; absurd ones want a lot."""
    style = _weighted(rng, TYPES)
    fair = Decimal(rng.uniform(3, 16) + float(price) * rng.uniform(0, 0.03)).quantize(Decimal(1))
    if style == "accepter":
        fair = Decimal(0)
    if style == "absurd":
        fair = (price * Decimal(rng.uniform(0.3, 1.0))).quantize(Decimal(1))
    ask = (fair * Decimal(rng.uniform(1.3, 2.5))).quantize(Decimal(1))
    step = Decimal(rng.choice([2, 3, 5, 10]))
    return Shopper(style, fair, rng.randint(1, 4), max(ask, fair + 1), step)


def _say_amount(shopper: Shopper, amount: Decimal, rng: random.Random) -> str:
    """The counter-offer in the shopper's own style."""
    n = int(amount)
    if shopper.style == "numerals" and n in CN:
        return rng.choice(["至少{}块", "{}行不行", "给我补{}我就不退了", "{}块钱吧"]).format(CN[n])
    text = rng.choice(["至少{}", "{}行不行", "给我补{}块我就不退了", "{}块吧", "¥{}"]).format(n)
    if shopper.style == "traditional":
        text = to_traditional(rng.choice(["至少赔我{}块", "{}块钱可以吗", "补{}块就不退了"]).format(n))
    return text


def next_message(shopper: Shopper, neg: "bargain.Negotiation", rng: random.Random) -> str:
    """What this shopper says to the standing offer."""
    if shopper.style == "more_asker":
        return rng.choice(["再加点", "多给点", f"才{neg.offer}块太少了", "不行，太少了"])
    if shopper.style == "doubler" and neg.rounds_used == 0:
        return "翻倍"
    if shopper.style == "absurd":
        return rng.choice(["一百万个赞", f"至少{int(shopper.ask)}", f"赔我{int(shopper.minimum)}块"])
    text = _say_amount(shopper, shopper.ask, rng)
    shopper.ask = max(shopper.minimum, shopper.ask - shopper.step)
    return text


def negotiate(
    item: Dict, shopper: Shopper, config: bargain.BargainConfig, rng: random.Random, engine_rng: random.Random
) -> Dict:
    """One negotiation to its end; returns what happened."""
    neg, reply = bargain.start_item(config=config, rng=engine_rng, **item)
    said = 0
    while neg.is_open:
        if shopper.wants(neg.offer):
            neg, reply = bargain.respond(
                neg, rng.choice(["好的", "可以", "行吧", "嗯，接受"]), rng=engine_rng
            )
        elif said >= shopper.patience:
            neg, reply = bargain.respond(neg, rng.choice(["算了", "不要了，退货吧"]), rng=engine_rng)
        else:
            neg, reply = bargain.respond(neg, next_message(shopper, neg, rng), rng=engine_rng)
            said += 1
    if neg.status == "declined_final" and shopper.wants(neg.offer):
        neg, reply = bargain.accept(neg, rng=engine_rng)
    return {"neg": neg, "deal": neg.status == "accepted", "possible": neg.ceiling > 0}


def return_cost(item: Dict, config: bargain.BargainConfig) -> Decimal:
    """What a failed negotiation costs: shipping both ways plus handling (10% of price)."""
    return 2 * route_band(item["route"], config)[1] + item["price"] / 10


def summarise(results: List[Dict], config: bargain.BargainConfig) -> Dict:
    """The figures the report prints, for one group of results."""
    deals = [r for r in results if r["deal"]]
    possible = [r for r in results if r["possible"]]
    reachable = [r for r in possible if r["minimum"] <= r["neg"].ceiling]
    share = [float(r["neg"].agreed / r["neg"].ceiling) for r in deals]
    floor_hits = [r for r in deals if r["neg"].agreed >= r["neg"].margin_cap - 1]
    cost = sum((r["neg"].agreed if r["deal"] else return_cost(r["item"], config)) for r in results)
    return {
        "n": len(results),
        "deal_rate": len(deals) / len(possible) if possible else 0.0,
        "reach_rate": sum(r["deal"] for r in reachable) / len(reachable) if reachable else None,
        "payout_share": sum(share) / len(share) if share else 0.0,
        "payout": float(sum(r["neg"].agreed for r in deals) / len(deals)) if deals else 0.0,
        "rounds": sum(r["neg"].rounds_used for r in possible) / len(possible) if possible else 0.0,
        "floor": len(floor_hits) / len(deals) if deals else 0.0,
        "cost": float(cost) / len(results) if results else 0.0,
    }


def run(n: int, seed: int, config: bargain.BargainConfig) -> List[Dict]:
    """The same population for a given seed whatever the settings, so runs compare."""
    population_rng, talk_rng, engine_rng = (
        random.Random(f"{seed}-{part}") for part in ("pop", "talk", "engine")
    )
    population = []
    for _ in range(n):
        item = make_item(population_rng)
        population.append((item, make_shopper(population_rng, item["price"])))
    results = []
    for item, shopper in population:
        talk_rng.seed(f"{seed}-{len(results)}")  # each shopper's wording independent of earlier runs
        result = negotiate(item, shopper, config, talk_rng, engine_rng)
        result.update(item=item, style=shopper.style, minimum=shopper.minimum)
        results.append(result)
    return results


def _overrides(pairs: List[str]) -> Dict:
    out: Dict = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        out[key] = value.split(",") if key == "concessions" else value
    return out


def _row(name: str, s: Dict) -> str:
    reach = "-" if s["reach_rate"] is None else f"{s['reach_rate']:.1%}"
    return (
        f"{name:<13}{s['n']:>6}{s['deal_rate']:>9.1%}{reach:>9}{s['payout_share']:>10.1%}{s['payout']:>9.1f}"
        f"{s['rounds']:>8.2f}{s['floor']:>8.1%}{s['cost']:>9.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a compensation setting of shop.yml, e.g. concessions=0.5,0.8,1",
    )
    args = parser.parse_args()
    base = bargain.load_config()
    data = {f: getattr(base, f) for f in base.__dataclass_fields__}
    data.update(_overrides(args.set))
    config = bargain.BargainConfig.from_dict(data)
    started = time.perf_counter()
    results = run(args.n, args.seed, config)
    elapsed = time.perf_counter() - started
    print(
        f"{args.n} negotiations, seed {args.seed}, {elapsed:.1f} s; "
        f"no compensation possible for {sum(not r['possible'] for r in results)} items"
    )
    print(
        f"{'shopper':<13}{'n':>6}{'deals':>9}{'reach':>9}{'paid/ceil':>10}{'paid':>9}{'rounds':>8}{'floor':>8}{'cost':>9}"
    )
    print(_row("all", summarise(results, config)))
    by_style = collections.defaultdict(list)
    for r in results:
        by_style[r["style"]].append(r)
    for style, _ in TYPES:
        print(_row(style, summarise(by_style[style], config)))


if __name__ == "__main__":
    main()
