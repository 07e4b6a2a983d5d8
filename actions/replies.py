"""Sending replies in the shopper's script, with varied wording."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from bot import text as zh


def shopper_script(tracker: Tracker) -> str:
    """The script of the shopper's recent messages (Traditional or Simplified)."""
    texts = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    return zh.conversation_script(texts[-5:])


def pick(variants: Sequence[str], tracker: Optional[Tracker] = None) -> str:
    """One of several phrasings, so the assistant does not sound canned.

    With the conversation at hand, a phrasing the assistant used in its last few messages is
    left out while another remains: asked the same thing twice, the shopper hears other words.
    """
    choices = list(variants)
    if tracker is not None and len(choices) > 1:
        recent = [e.get("text") or "" for e in tracker.events if e.get("event") == "bot"][-4:]
        choices = [choices[i] for i in zh.unsaid(choices, recent)]
    return runtime.get().rng.choice(choices)


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    text: str,
    buttons: Optional[List[Dict[str, str]]] = None,
    custom: Optional[Dict[str, Any]] = None,
) -> None:
    """Send ``text`` (written in Simplified) in the shopper's script, without the sentences this
    reply already said (two cases in one reply both describing the same parcel)."""
    script = shopper_script(tracker)
    if buttons:
        buttons = [{**b, "title": zh.in_script(b["title"], script)} for b in buttons]
    text = _not_repeated(zh.in_script(text, script), [m.get("text") or "" for m in dispatcher.messages])
    dispatcher.utter_message(text=text, buttons=buttons or [])
    if custom:
        dispatcher.utter_message(json_message=custom)


_SENTENCE_END = re.compile(r"(?<=[。！？!?])")


def _not_repeated(text: str, earlier: List[str]) -> str:
    """``text`` less its sentences (of some length) that an earlier message of this reply holds;
    all of it when nothing would be left."""
    said = "\n".join(earlier)
    if not said:
        return text
    kept = [s for s in _SENTENCE_END.split(text) if len(s.strip()) < 8 or s.strip() not in said]
    return "".join(kept) if "".join(kept).strip() else text


def button(title: str, intent: str, **entities: str) -> Dict[str, str]:
    """A quick-reply button whose payload is an intent (and entities) Rasa parses directly."""
    payload = "/" + intent
    if entities:
        import json

        payload += json.dumps(entities, ensure_ascii=False)
    return {"title": title, "payload": payload}
