"""Response generation that answers in the shopper's script.

Responses in domain.yml are written once, in Simplified. This generator (named in
endpoints.yml as ``nlg: type: bot.nlg.ScriptAwareNLG``) picks a variant as Rasa's
templated generator does, then renders it in Traditional when the shopper writes
Traditional.
"""

from __future__ import annotations

import copy
import random
from typing import Any, Dict, List, Optional, Text

from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import text as zh


def tracker_script(tracker: DialogueStateTracker) -> str:
    """The script the shopper is writing in, from their messages so far."""
    texts = [e.text or "" for e in tracker.events if isinstance(e, UserUttered)]
    return zh.conversation_script(texts[-5:])


def render_in_script(message: Dict[Text, Any], script: str) -> Dict[Text, Any]:
    """Convert a response's text and button titles (not payloads) to ``script``."""
    if script != zh.TRADITIONAL:
        return message
    converted = dict(message)
    if converted.get("text"):
        converted["text"] = zh.to_traditional(converted["text"])
    buttons: Optional[List[Dict[Text, Any]]] = converted.get("buttons")
    if buttons:
        converted["buttons"] = [{**b, "title": zh.to_traditional(b.get("title", ""))} for b in buttons]
    return converted


class ScriptAwareNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator, rendered in the shopper's script."""

    def __init__(self, endpoint_config: Any = None, domain: Optional[Domain] = None, **kwargs: Any) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        filled_slots = tracker.current_slot_values()
        response = self._fresh_response_for(utter_action, output_channel, filled_slots, tracker)
        if response is None:
            return None
        message = self._fill_response(copy.deepcopy(response), filled_slots, **kwargs)
        return render_in_script(message, tracker_script(tracker))

    def _fresh_response_for(
        self, utter_action: Text, output_channel: Text, filled_slots: Dict[Text, Any],
        tracker: DialogueStateTracker,
    ) -> Optional[Dict[Text, Any]]:
        """Rasa's choice among the suitable variants, leaving out one the bot just said (bot.text.unsaid)."""
        if utter_action not in self.responses:
            return None
        suitable = ResponseVariationFilter(self.responses).responses_for_utter_action(
            utter_action, output_channel, filled_slots)
        if not suitable:
            return None
        recent = [e.text or "" for e in tracker.events if isinstance(e, BotUttered)][-4:]
        fresh = zh.unsaid([r.get("text") or "" for r in suitable], recent)
        return suitable[random.choice(fresh)]
