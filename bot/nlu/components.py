"""Custom Rasa NLU components for Chinese after-sales messages.

Thin adapters over ``bot.text``; the language logic lives there and is unit-tested
without Rasa. Registered with Rasa's default recipe, named in config.yml by class path.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import text as zh

SCRIPT = "script"  # message attribute: the script the shopper wrote in
MAX_CHARS = 1000  # longer messages are cut before tokenising; the start carries the request


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class ScriptNormalizer(GraphComponent):
    """Converts Traditional script to Simplified before tokenisation.

    One model then serves both scripts: jieba's dictionary, the lookup tables and the
    training data are Simplified. The original script is kept on the message so replies
    can be rendered back in it. Very long messages are cut to ``max_chars`` so a pasted
    essay cannot stall the tokenizer.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": MAX_CHARS}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._max_chars = int(config.get("max_chars", MAX_CHARS))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ScriptNormalizer":
        return cls(config)

    def _normalize(self, message: Message) -> None:
        original = message.get(TEXT)
        if not isinstance(original, str) or not original:
            return
        # cut first, convert once: a pasted essay costs no more than 1,000 characters
        original = original[: self._max_chars]
        simplified = zh.to_simplified(original)
        message.set(SCRIPT, zh.detect_script(original, simplified))
        # pasted numbers (２０２４…, 2024 0518 1234 5678, 138-1234-5678, +86) in one shape
        message.set(TEXT, zh.normalize_numbers(simplified))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalize(message)
            # annotated values follow the text, or 五十塊/五十块 would look like synonyms
            for entity in message.get(ENTITIES, []) or []:
                if isinstance(entity.get("value"), str):
                    entity["value"] = zh.to_simplified(entity["value"])
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize(message)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class AmountExtractor(GraphComponent, EntityExtractorMixin):
    """Finds money amounts and normalises them to a number of 元 (``amount`` entity).

    Replaces any ``amount`` a statistical extractor predicted, because the value the
    bargaining engine needs is the number (五十块 -> 50), not the words.
    """

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "AmountExtractor":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._extract(message)
        return messages

    def _extract(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        others = [e for e in message.get(ENTITIES, []) if e.get("entity") != "amount"]
        found = self._find(text)
        if found:
            others.append(self.add_extractor_name([found])[0])
        message.set(ENTITIES, others, add_to_output=True)

    @staticmethod
    def _find(text: str) -> Optional[Dict[Text, Any]]:
        span = zh.find_amount(text)
        if span is None:
            return None
        start, end, value = span
        number = int(value) if value == value.to_integral() else float(value)
        return {
            "entity": "amount",
            "start": start,
            "end": end,
            "value": number,
            "confidence_entity": 1.0,
        }
