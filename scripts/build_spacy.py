"""Build the offline spaCy pipeline: blank Chinese with jieba, plus an EntityRuler.

No Chinese spaCy model can be downloaded here, so we make our own from the project's
lookup tables (colours, sizes) and save it under models/spacy_zh, where Rasa's SpacyNLP
loads it by path. Used only by the pipeline variant that tries spaCy (see README).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "models" / "spacy_zh"


def lookup_terms() -> dict:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"))
    return {t["name"]: list(t["elements"]) for t in data.lookup_tables if t["name"] in ("color", "size")}


def build(out: Path = OUT) -> Path:
    import spacy

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "ORTH"})
    patterns = []
    for label, terms in lookup_terms().items():
        for term in terms:
            # match on characters, not jieba tokens: jieba may glue 米白色 to its neighbours
            patterns.append({"label": label, "pattern": [{"TEXT": {"REGEX": f"^{term}$"}}]})
    ruler.add_patterns(patterns)
    out.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    return out


if __name__ == "__main__":
    print(f"spaCy pipeline written to {build()}")
    sys.exit(0)
