"""Our pipeline component inside Rasa's own environment (`.venv-rasa`, Python 3.10)."""

from __future__ import annotations

import json
import subprocess

from nlu.rasa_process import rasa_env, rasa_executable
from tests.integration.conftest import ROOT, require_model

SCRIPT = """
import json, sys
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from nlu.rasa_components import SpellingNormaliser

message = Message(data={"text": sys.argv[1]})
WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
SpellingNormaliser().process([message])
tokens = message.get("text_tokens")
print(json.dumps([[t.text, t.start, t.lemma] for t in tokens]))
"""


def test_lemmas_are_normalised_and_spans_kept() -> None:
    require_model()
    python = rasa_executable().with_name("python")
    text = "ciao ke nn sn sikura, perché AIUTOOO x mia mamma"
    done = subprocess.run(
        [str(python), "-c", SCRIPT, text],
        cwd=ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    tokens = json.loads(done.stdout.strip().splitlines()[-1])
    assert [lemma for _, _, lemma in tokens] == [
        "ciao",
        "che",
        "non",
        "sono",
        "sicura",
        "perche",
        "aiuto",
        "per",
        "mia",
        "mamma",
    ]
    # What the resident wrote, where they wrote it: entity spans are unaffected.
    assert all(text[start : start + len(word)] == word for word, start, _ in tokens)
