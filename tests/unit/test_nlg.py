"""bot.nlg: the domain's responses in the shopper's script, without saying the same words twice in a row."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import text as zh
from bot.nlg import ScriptAwareNLG

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))
ASK_PHONE = [r["text"] for r in DOMAIN.responses["utter_ask_phone"]]


def _generate(events, times=30):
    nlg = ScriptAwareNLG(domain=DOMAIN)
    tracker = DialogueStateTracker.from_events("nlg-test", events, slots=DOMAIN.slots)

    async def run():
        return [(await nlg.generate("utter_ask_phone", tracker, "rest"))["text"] for _ in range(times)]

    return asyncio.run(run())


def test_every_variant_is_used_when_nothing_was_said():
    assert len(ASK_PHONE) >= 2
    assert set(_generate([UserUttered("1001000000000004")], times=80)) == set(ASK_PHONE)


def test_a_variant_just_said_is_left_out():
    events = [UserUttered("1001000000000004"), BotUttered(ASK_PHONE[0]), UserUttered("1234")]
    said = set(_generate(events))
    assert ASK_PHONE[0] not in said and said <= set(ASK_PHONE[1:])


def test_traditional_shoppers_hear_traditional_and_the_repeat_is_still_recognised():
    events = [UserUttered("我要退貨"), BotUttered(zh.to_traditional(ASK_PHONE[1])), UserUttered("好的")]
    said = set(_generate(events))
    assert said and all(text == zh.to_traditional(text) for text in said)
    assert zh.to_traditional(ASK_PHONE[1]) not in said
