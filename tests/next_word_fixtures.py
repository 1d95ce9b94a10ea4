"""Shared by the next-word tests: a made-up English corpus and tiny language models fitted on it.

Not a test module (pytest collects only `test_*.py`): the test files import from it. A fitted
folder is cached for the whole session, so the pipeline and CLI tests share one fit per cell.
"""

import random

from apptk.applications.next_word import NextWordConfig, fit_next_word

_DETERMINERS = ["the", "a"]
_ADJECTIVES = ["quick", "lazy", "brown", "small", "big", "red", "old", "happy"]
_NOUNS = ["fox", "dog", "cat", "bird", "man", "woman", "horse", "child"]
_VERBS = ["jumps over", "runs past", "sees", "chases", "likes", "sleeps near", "walks with"]
_ENDINGS = [".", " today .", " again .", " in the park ."]


def synthetic_lines(count: int = 400, seed: int = 0) -> list[str]:
    """`The quick brown fox jumps over the lazy dog.`-style sentences from a tiny grammar."""
    rng = random.Random(seed)

    def noun_phrase():
        adjectives = " ".join(rng.sample(_ADJECTIVES, rng.randint(0, 2)))
        words = [rng.choice(_DETERMINERS), adjectives, rng.choice(_NOUNS)]
        return " ".join(word for word in words if word)

    lines = []
    for _ in range(count):
        sentence = f"{noun_phrase()} {rng.choice(_VERBS)} {noun_phrase()}{rng.choice(_ENDINGS)}"
        lines.append(sentence[0].upper() + sentence[1:])
    return lines


def write_corpus(path, lines: list[str] | None = None) -> str:
    path.write_text("\n".join(lines or synthetic_lines()) + "\n", encoding="utf-8")
    return str(path)


def tiny_config(cell: str, **overrides) -> NextWordConfig:
    """A model of a few thousand weights that fits in seconds on a busy CPU."""
    settings = {
        "cell": cell,
        "vocabulary_size": 300,
        "min_count": 1,
        "embedding_dim": 16,
        "units": 16,
        "num_layers": 1,
        "num_heads": 2,
        "dropout": 0.0,
        "sequence_length": 12,
        "batch_size": 32,
        "learning_rate": 1e-2,
        "epochs": 2,
        "patience": 2,
        "seed": 0,
    }
    settings.update(overrides)
    return NextWordConfig(**settings)


_FITTED: dict[str, str] = {}


def fitted_folder(tmp_path_factory, cell: str) -> str:
    """A model folder fitted on the synthetic corpus, once per cell per session."""
    if cell not in _FITTED:
        base = tmp_path_factory.mktemp(f"next_word_{cell}")
        corpus = write_corpus(base / "corpus.txt")
        folder = str(base / "model")
        fit_next_word(corpus, folder, tiny_config(cell))
        _FITTED[cell] = folder
    return _FITTED[cell]
