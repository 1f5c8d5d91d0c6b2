"""Our own Rasa pipeline component. Loaded by Rasa's process (`.venv-rasa`), never by the app.

`SpellingNormaliser` sits between the tokenizer and the featurizers and sets each token's
lemma to its `nlu.text.normalise`d form: "ke" and "che", "nn" and "non", "perché" and
"perche", "aiutooo" and "aiuto" become the same feature for the word and character n-gram
featurizers (which read lemmas). Token texts and offsets are untouched, so entity spans
and the CRF's word-shape features still see what the resident wrote. The safety net and
the entity helpers use the same function, so a spelling variant is handled once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.text import normalise

_TEXT_PY = Path(__file__).with_name("text.py")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SpellingNormaliser(GraphComponent):
    """Sets token lemmas to the normalised spelling (see the module docstring)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpellingNormaliser:
        return cls()

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # Rasa fingerprints this class's source, not the module it calls: without this a
        # change to nlu/text.py would not retrain the model that depends on it.
        return hashlib.sha256(_TEXT_PY.read_bytes()).hexdigest()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            for token in message.get(TOKENS_NAMES[TEXT]) or ():
                # Punctuation-only tokens normalise to nothing: keep them as written.
                token.lemma = normalise(token.text) or token.text
        return messages
