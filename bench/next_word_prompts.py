"""Next-word models on what people type: top-1 / top-5 hit rates on everyday prompts, beside
held-out Tatoeba English.

    python bench/next_word_prompts.py [--model M ...] [--misses]

`bench/data/everyday_prompts.tsv` holds 64 openings of greetings, letters, stories and
questions, each with the next words a person would accept, written before any model was asked.
A prompt counts as a top-k hit when any of the model's k likeliest next words is acceptable
(compared in lower case). Held-out Tatoeba: the test split (a stable hash of each sentence, as
`fit next-word` holds it out) of the local Tatoeba English sentences, scored word by word
(`score_lines`, as `evaluate_next_word`: perplexity, top-1 / top-5 accuracy). A word outside
a model's vocabulary counts as `<unk>`, easier to predict than the word, so models with
different vocabularies are also scored over the words all of them know ("shared": perplexity,
top-5).
Models: presets, fitted folders or exports (default: the shipped `next_word`). Prints figures,
asserts nothing.
"""

import argparse
import os

import numpy as np
import tensorflow as tf

from apptk.applications.next_word import NextWordPredictor
from apptk.applications.next_word.evaluation import score_lines
from apptk.applications.text.corpus import split_corpus
from apptk.applications.text.tatoeba_pairs import load_pairs
from apptk.applications.text.word_vocabulary import split_words

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPTS = os.path.join(ROOT, "bench", "data", "everyday_prompts.tsv")
PAIRS = os.path.join(ROOT, "..", "shared", "data", "spa-eng.zip")


def read_prompts(path: str = PROMPTS) -> list[tuple[str, set[str]]]:
    """`(prompt, acceptable next words)` of each line that is not a comment."""
    prompts = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                prompt, words = line.rstrip("\n").split("\t")
                prompts.append((prompt, {word.lower() for word in words.split("|")}))
    return prompts


def prompt_hits(predictor, prompts) -> dict:
    """Top-1 and top-5 hit rates, with each prompt's five answers."""
    answers = predictor([prompt for prompt, _ in prompts], top_k=5)
    rows = []
    for (prompt, acceptable), choices in zip(prompts, answers):
        words = [choice["word"].lower() for choice in choices]
        rows.append((prompt, words, words[0] in acceptable, bool(acceptable & set(words))))
    return {
        "top1": sum(row[2] for row in rows) / len(rows),
        "top5": sum(row[3] for row in rows) / len(rows),
        "rows": rows,
    }


def tatoeba_test_lines() -> list[str] | None:
    """The test split of Tatoeba's English sentences, when the local copy is present."""
    if not os.path.exists(PAIRS):
        return None
    sentences = list(dict.fromkeys(pair.english for pair in load_pairs(PAIRS)))
    return split_corpus(sentences)["test"]


def known_to_all(predictors, lines: list[str]) -> tf.RaggedTensor:
    """For each word of each line, whether every model's vocabulary holds it."""
    words = split_words(tf.constant(lines))
    known = np.ones(int(words.flat_values.shape[0]), bool)
    for predictor in predictors:
        for start in range(0, len(known), 4096):
            chunk = words.flat_values[start : start + 4096]
            counts = predictor.module.known_word_counts(chunk)["known_word_counts"]
            known[start : start + 4096] &= counts.numpy() > 0
    return tf.RaggedTensor.from_row_splits(known, words.row_splits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="preset, folder or export (repeat)")
    parser.add_argument("--misses", action="store_true", help="list the prompts missed in top 5")
    args = parser.parse_args()
    prompts = read_prompts()
    print(f"{len(prompts)} everyday prompts from {os.path.relpath(PROMPTS, ROOT)}")
    names = args.model or ["next_word"]
    predictors = [NextWordPredictor.load(name) for name in names]
    lines = tatoeba_test_lines()
    known = known_to_all(predictors, lines) if lines else None
    header = f"{'model':<28}{'prompts top-1':>14}{'top-5':>8}"
    print(f"{header}{'Tatoeba test ppl':>18}{'top-1':>8}{'top-5':>8}{'shared ppl':>12}{'top-5':>8}")
    for name, predictor in zip(names, predictors, strict=True):
        hits = prompt_hits(predictor, prompts)
        held_out = f"{'(no local Tatoeba file)':>34}"
        if lines:
            tatoeba = score_lines(predictor, lines)
            shared = score_lines(predictor, lines, counted=known)
            held_out = (
                f"{tatoeba['perplexity']:>18.1f}{tatoeba['top1_accuracy']:>8.3f}"
                f"{tatoeba['top5_accuracy']:>8.3f}{shared['perplexity']:>12.1f}"
                f"{shared['top5_accuracy']:>8.3f}"
            )
        print(f"{name[-28:]:<28}{hits['top1']:>14.3f}{hits['top5']:>8.3f}{held_out}")
        if args.misses:
            for prompt, words, _, hit in hits["rows"]:
                if not hit:
                    print(f"    missed: {prompt!r} -> {', '.join(words)}")
    if known is not None:
        print(
            f"shared ppl: Tatoeba test over the {int(np.sum(known.flat_values))} of "
            f"{len(known.flat_values)} words every model above knows"
        )


if __name__ == "__main__":
    main()
