"""The training data and the held-out set keep the contract and stay apart."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bot.text import to_simplified

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "INTENTS.md"  # beside the project, in CI too
INTENTS = [
    "greet", "goodbye", "thank", "affirm", "deny", "inform_order", "check_order_status", "shipping_delay",
    "lost_package", "request_return", "request_refund_only", "request_exchange", "color_mismatch",
    "size_mismatch", "quality_issue", "wrong_item", "warranty_repair", "ask_human", "complain", "bargain",
    "out_of_scope",
]


@pytest.fixture(scope="module")
def training():
    return load_data(str(ROOT / "data" / "nlu"))


@pytest.fixture(scope="module")
def heldout():
    return load_data(str(ROOT / "tests" / "nlu" / "heldout.yml"))


def _key(text: str) -> str:
    return re.sub(r"[\s，。！？,.!?~～]", "", to_simplified(text)).lower()


def test_contract_list_matches_intents_md():
    if not CONTRACT.exists():
        pytest.skip("../shared/INTENTS.md is not beside this checkout")
    section = CONTRACT.read_text().split("## Intents")[1].split("## Entities")[0]
    names = set(re.findall(r"^\| (\w+) \|", section, re.M)) - {"intent"}
    assert names == set(INTENTS)


def test_domain_declares_every_contract_intent_and_entity():
    from ruamel.yaml import YAML

    domain = YAML(typ="safe").load((ROOT / "domain.yml").read_text())
    assert set(INTENTS) <= set(domain["intents"])
    assert {"order_id", "phone", "amount", "color", "size"} <= set(domain["entities"])


def test_every_contract_intent_has_40_training_examples(training):
    counts = collections.Counter(m.get("intent") for m in training.intent_examples)
    short = {i: counts[i] for i in INTENTS if counts[i] < 40}
    assert not short, f"intents with fewer than 40 examples: {short}"


def test_every_contract_intent_has_10_heldout_examples(heldout):
    counts = collections.Counter(m.get("intent") for m in heldout.intent_examples)
    short = {i: counts[i] for i in INTENTS if counts[i] < 10}
    assert not short, f"held-out intents with fewer than 10 messages: {short}"


def test_heldout_never_appears_in_training(training, heldout):
    trained = {_key(m.get("text")) for m in training.intent_examples}
    leaked = [m.get("text") for m in heldout.intent_examples if _key(m.get("text")) in trained]
    assert not leaked, f"held-out messages also in training: {leaked[:10]}"


def test_training_has_no_duplicates_across_intents(training):
    seen = {}
    clashes = []
    for m in training.intent_examples:
        k = _key(m.get("text"))
        if k in seen and seen[k] != m.get("intent"):
            clashes.append((m.get("text"), seen[k], m.get("intent")))
        seen[k] = m.get("intent")
    assert not clashes, clashes[:10]


def test_both_scripts_are_trained(training):
    traditional = [m for m in training.intent_examples if to_simplified(m.get("text")) != m.get("text")]
    assert len(traditional) >= 0.1 * len(training.intent_examples)
