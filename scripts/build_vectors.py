"""Word vectors trained here on unlabelled real customer-service logs (issue #13).

The source is the JD customer-service sessions the real corpus came from (data/real/README.md
"Sources"): ``data/train.enc`` and ``data/test.enc`` of ``Dukehan1/JDDC`` at the pinned commit,
read from the local snapshot with ``git show``. Each line is one session, its turns (the
shopper's and the agent's, without speaker tags) joined by commas; JD's placeholders
(``[ORDERID_…]``, ``[数字x]`` …) are rendered first as the corpus renders them (README "Masking").

Kept apart, so the evaluation sets never shape the vectors: every context line that holds a
message of the real test set (``split = test`` of data/real/messages.tsv, i.e.
tests/nlu/real_test.yml) or an opening of data/real/openings.tsv is dropped whole: the line its
``source`` names (for a message taken from ``train.dec``, the ``train.enc`` line of the same
session), and every line with a turn that is the same text or that contains the text anywhere,
compared after the leak test's normalisation (``near_key``: script, width, case, digits,
punctuation, spaces). Texts shorter than ``--min-chars`` characters after that normalisation
(好的, 谢谢, 在吗, 恩, an order number alone: stock turns that thousands of sessions share) drop
only the line they were taken from: matching them everywhere would drop 43 % of all lines
(57 % once contained anywhere) for phrases the served model would have seen in the logs anyway.

Each kept turn is one sentence, tokenised exactly as the classifier reads a message (the
``Featurizer`` of scripts/eval_real_ablation.py: Simplified script, number placeholders, jieba
with bot/resources/jieba); tokens of punctuation only are left out. gensim then trains
Word2Vec (skip-gram) or FastText (skip-gram over words and their character 1-3 grams, so a
word the logs never had still gets a vector). One worker and a fixed seed and hash: the same
corpus gives the same vectors.

    python scripts/build_vectors.py                       # FastText, 100 dimensions -> var/vectors/
    python scripts/build_vectors.py --kind word2vec --out var/vectors/word2vec.kv

The output is gensim's own KeyedVectors format (``.kv`` plus ``.npy`` side files: a pickle, so
load only files built here) and ``<out>.json`` with the settings and corpus counts. With
``--served PATH`` the FastText vectors are also written the way the classifier reads them: a NumPy
archive without pickle (words, their vectors, the n-gram buckets, min_n/max_n), plus its ``.json``.
The served file, ``bot/resources/vectors/jddc-fasttext-50d.npz``, was built with

    python scripts/build_vectors.py --dim 50 --bucket 20000 --out var/vectors/ft50.kv \
        --served bot/resources/vectors/jddc-fasttext-50d.npz
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from eval_openings import near_key  # noqa: E402  (the leak test's normalisation, tests/nlu/test_real_set.py)

SNAPSHOT = Path("/work/.mirror/Dukehan1+JDDC/repo")
COMMIT = "e4938fdc6251514a1cf53f37aff2cff9a1f4e14e"
FILES = ("data/train.enc", "data/test.enc")
# a message of the corpus quoted from an agent reply file belongs to the context line of the
# same number (the same session)
SAME_SESSION = {"data/train.dec": "data/train.enc", "data/test.dec": "data/test.enc"}
MESSAGES = ROOT / "data" / "real" / "messages.tsv"
OPENINGS = ROOT / "data" / "real" / "openings.tsv"
DEFAULT_OUT = ROOT / "var" / "vectors" / "fasttext.kv"

LineId = Tuple[str, int]  # file, 1-based line number (as in a ``source``)

# JD's placeholders as data/real/README.md "Masking" renders them; what the README does not
# list (links, user ids, product snapshots, emoticon codes) is removed
_ORDER_ID = re.compile(r"\[ORDERID_(\d+)\]")
_PLACEHOLDERS = [
    ("[数字x]", "3"),
    ("[金额x]", "99元"),
    ("[姓名x]", "小王"),
    ("[地址x]", "某路"),
    ("[电话x]", "138****0000"),
    ("[日期x]", "1月3日"),
    ("[时间x]", "10:00"),
    ("[站点x]", "某站"),
]
_REMOVED = re.compile(r"#E-\w+\[数字x\]|#E-\w+|https?://[^\s,，]+|\[USERID_\d+\]|\[[^\[\]]{1,12}\]")


def render(text: str) -> str:
    """JD's placeholders as the real corpus renders them ([ORDERID_10005104] -> 2018000010005104)."""
    text = _ORDER_ID.sub(lambda m: "2018" + m.group(1)[-12:].zfill(12), text)
    text = re.sub(r"#E-\w+\[数字x\]", " ", text)  # emoticon codes, before [数字x] becomes a digit
    for placeholder, dummy in _PLACEHOLDERS:
        text = text.replace(placeholder, dummy)
    return _REMOVED.sub(" ", text)


def read_source(path: str, snapshot: Path = SNAPSHOT, commit: str = COMMIT) -> List[str]:
    """The lines of one file of the snapshot at the commit (``git show``; no work tree needed)."""
    if not snapshot.exists():
        raise SystemExit(f"no JDDC snapshot at {snapshot} (see data/real/README.md 'Sources')")
    out = subprocess.run(
        ["git", "-C", str(snapshot), "show", f"{commit}:{path}"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    return out.splitlines()


def _line_of(source: str) -> Optional[LineId]:
    """``repo@commit:data/train.enc:6316`` -> ("data/train.enc", 6316); None for other sources."""
    match = re.search(r"@" + COMMIT + r":(data/[\w.]+):(\d+)$", source)
    if not match:
        return None
    path = SAME_SESSION.get(match.group(1), match.group(1))
    return (path, int(match.group(2))) if path in FILES else None


def evaluation_texts() -> List[Tuple[str, str]]:
    """(text, source) of every real test message and every opening: what the vectors must not see."""
    with MESSAGES.open(encoding="utf-8") as f:
        test = [(r["text"], r["source"]) for r in csv.DictReader(f, delimiter="\t") if r["split"] == "test"]
    with OPENINGS.open(encoding="utf-8") as f:
        openings = [(r["text"], r["source"]) for r in csv.DictReader(f, delimiter="\t")]
    return test + openings


def sources_of(texts: Iterable[str]) -> List[Tuple[str, str]]:
    """(text, source) for texts of data/real/messages.tsv (e.g. a fold of the real training messages)."""
    with MESSAGES.open(encoding="utf-8") as f:
        known = {r["text"]: r["source"] for r in csv.DictReader(f, delimiter="\t")}
    return [(t, known.get(t, "")) for t in texts]


@dataclass
class Corpus:
    """The context lines of the source files, rendered, with their near keys (computed once)."""

    lines: Dict[LineId, str]
    line_keys: Dict[LineId, str]

    @classmethod
    def load(cls, snapshot: Path = SNAPSHOT, commit: str = COMMIT) -> "Corpus":
        lines = {
            (path, n): render(line)
            for path in FILES
            for n, line in enumerate(read_source(path, snapshot, commit), start=1)
        }
        return cls(lines, {i: near_key(line) for i, line in lines.items()})

    def holding(self, texts: Sequence[Tuple[str, str]], min_chars: int) -> Set[LineId]:
        """The lines that hold any of the (text, source) pairs: the line the source names, and for a
        text of at least ``min_chars`` normalised characters every line that contains it."""
        out = {i for _, s in texts if (i := _line_of(s)) is not None}
        keys = sorted({k for t, _ in texts if len(k := near_key(render(t))) >= min_chars})
        for i, key in self.line_keys.items():
            if any(k in key for k in keys):  # a turn equal to the text is contained too
                out.add(i)
        return out

    def sentences(self, drop: Set[LineId], feats: Any) -> List[List[str]]:
        """The kept lines' turns, each a list of the classifier's word tokens (no punctuation-only token)."""
        out = []
        for i, line in self.lines.items():
            if i in drop:
                continue
            for turn in line.split(","):
                words = [w for w in feats(turn)[1].split() if re.search(r"\w", w)]
                if words:
                    out.append(words)
        return out


@dataclass(frozen=True)
class Settings:
    """What a set of vectors is trained with (saved beside the vectors, and reused per fold)."""

    kind: str = "fasttext"  # or "word2vec"
    dim: int = 100
    window: int = 5
    min_count: int = 2
    epochs: int = 10
    min_n: int = 1  # FastText: character n-grams of a word, 1-3 (Chinese words are 1-4 characters)
    max_n: int = 3
    bucket: int = 100_000  # FastText: n-gram hash buckets (gensim's 2,000,000 would be ~800 MB at 100 dims)
    min_chars: int = 4  # characters (after near_key) for a text to drop every line that contains it
    seed: int = 0


def _stable_hash(text: str) -> int:
    """Seeds each word's initial vector the same in every process (Python's hash() is salted)."""
    return zlib.crc32(text.encode("utf-8"))


def train(sentences: List[List[str]], settings: Settings) -> Any:
    """gensim KeyedVectors trained on the sentences (skip-gram, one worker: reproducible)."""
    from gensim.models import FastText, Word2Vec

    common = dict(
        sentences=sentences,
        vector_size=settings.dim,
        window=settings.window,
        min_count=settings.min_count,
        epochs=settings.epochs,
        sg=1,
        seed=settings.seed,
        workers=1,
        hashfxn=_stable_hash,
    )
    if settings.kind == "word2vec":
        return Word2Vec(**common).wv
    if settings.kind == "fasttext":
        return FastText(**common, min_n=settings.min_n, max_n=settings.max_n, bucket=settings.bucket).wv
    raise ValueError(f"unknown kind of vectors: {settings.kind!r} (word2vec or fasttext)")


def build(
    settings: Settings,
    corpus: Corpus,
    feats: Any,
    also_unseen: Sequence[Tuple[str, str]] = (),
) -> Tuple[Any, Dict[str, Any]]:
    """Vectors from the corpus minus the lines holding an evaluation text (and ``also_unseen``,
    e.g. the real training messages a fold holds out), and the counts behind them."""
    start = time.perf_counter()
    drop = corpus.holding(evaluation_texts(), settings.min_chars)
    dropped_eval = len(drop)
    if also_unseen:
        drop |= corpus.holding(also_unseen, settings.min_chars)
    sentences = corpus.sentences(drop, feats)
    prepared = time.perf_counter()
    vectors = train(sentences, settings)
    done = time.perf_counter()
    stats = {
        "lines": len(corpus.lines),
        "lines_dropped_for_evaluation_sets": dropped_eval,
        "lines_dropped": len(drop),
        "lines_kept": len(corpus.lines) - len(drop),
        "sentences": len(sentences),
        "tokens": sum(len(s) for s in sentences),
        "vocabulary": len(vectors.index_to_key),
        "prepare_seconds": round(prepared - start, 1),
        "train_seconds": round(done - prepared, 1),
    }
    return vectors, stats


def export_served(keyed: Any, path: Path) -> None:
    """FastText vectors as ``bot.nlu.classifier.WordVectors`` reads them: plain arrays, no pickle."""
    import numpy as np

    if not hasattr(keyed, "vectors_ngrams"):
        raise SystemExit("--served needs FastText vectors (--kind fasttext)")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        words=np.array(keyed.index_to_key, dtype=str),
        vectors=np.asarray(keyed.vectors, dtype=np.float32),
        ngrams=np.asarray(keyed.vectors_ngrams, dtype=np.float32),
        ngram_range=np.array([keyed.min_n, keyed.max_n], dtype=np.int64),
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"vectors file (default {DEFAULT_OUT})")
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT, help="the JDDC git directory")
    parser.add_argument("--commit", default=COMMIT, help="the JDDC commit the corpus was taken from")
    parser.add_argument("--served", type=Path, help="also write the FastText vectors as the classifier reads them (.npz)")
    defaults = Settings()
    for field, value in asdict(defaults).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    settings = Settings(**{f: getattr(args, f) for f in asdict(defaults)})

    import logging

    logging.disable(logging.WARNING)  # jieba's and gensim's progress lines
    from eval_real_ablation import Featurizer

    start = time.perf_counter()
    corpus = Corpus.load(args.snapshot, args.commit)
    vectors, stats = build(settings, corpus, Featurizer())
    stats["total_seconds"] = round(time.perf_counter() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    vectors.save(str(args.out))
    size = sum(p.stat().st_size for p in args.out.parent.glob(args.out.name + "*"))
    stats["file_bytes"] = size
    source = {"snapshot": str(args.snapshot), "commit": args.commit, "files": list(FILES)}
    meta = {"settings": asdict(settings), "source": source, **stats}
    Path(str(args.out) + ".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.served:
        export_served(vectors, args.served)
        served = {**meta, "file_bytes": args.served.stat().st_size,
                  "source": {**source, "snapshot": "github:Dukehan1/JDDC (a local snapshot)"}}
        Path(str(args.served) + ".json").write_text(json.dumps(served, ensure_ascii=False, indent=1), encoding="utf-8")
    print(
        f"{stats['lines']} context lines: {stats['lines_dropped']} dropped (they hold a real test message "
        f"or an opening), {stats['lines_kept']} kept; {stats['sentences']} turns, {stats['tokens']} tokens, "
        f"{stats['vocabulary']} words with a vector"
    )
    print(
        f"{settings.kind}, {settings.dim} dimensions: prepared in {stats['prepare_seconds']} s, trained in "
        f"{stats['train_seconds']} s, {stats['total_seconds']} s in all; {args.out} ({size / 1e6:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
