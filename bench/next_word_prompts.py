"""Next-word models on what people type: top-1 / top-5 hit rates on everyday prompts, beside
held-out Tatoeba English.

    python bench/next_word_prompts.py [--model M ...] [--misses]

`bench/data/everyday_prompts.tsv` holds 64 openings of greetings, letters, stories and
questions, each with the next words a person would accept, written before any model was asked.
A prompt counts as a top-k hit when any of the model's k likeliest next words is acceptable
(compared in lower case). Held-out Tatoeba: the test split (a stable hash of each sentence, as
`fit next-word` holds it out) of the local Tatoeba English sentences, scored word by word
(`evaluate_next_word`: perplexity, top-1 / top-5 accuracy). Models: presets, fitted folders or
exports (default: the shipped `next_word`). Prints figures, asserts nothing.
"""

import argparse
import os
import tempfile

from apptk.applications.next_word import NextWordPredictor, evaluate_next_word
from apptk.applications.text.corpus import split_corpus
from apptk.applications.text.tatoeba_pairs import load_pairs

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


def held_out_tatoeba(predictor) -> dict | None:
    """`evaluate_next_word` on the test split of Tatoeba's English sentences, when present."""
    if not os.path.exists(PAIRS):
        return None
    sentences = list(dict.fromkeys(pair.english for pair in load_pairs(PAIRS)))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as handle:
        handle.write("\n".join(split_corpus(sentences)["test"]) + "\n")
        handle.flush()
        return evaluate_next_word(predictor, handle.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="preset, folder or export (repeat)")
    parser.add_argument("--misses", action="store_true", help="list the prompts missed in top 5")
    args = parser.parse_args()
    prompts = read_prompts()
    print(f"{len(prompts)} everyday prompts from {os.path.relpath(PROMPTS, ROOT)}")
    header = f"{'model':<28}{'prompts top-1':>14}{'top-5':>8}"
    print(f"{header}{'Tatoeba test ppl':>18}{'top-1':>8}{'top-5':>8}")
    for model in args.model or ["next_word"]:
        predictor = NextWordPredictor.load(model)
        hits = prompt_hits(predictor, prompts)
        tatoeba = held_out_tatoeba(predictor)
        held_out = (
            f"{tatoeba['perplexity']:>18.1f}{tatoeba['top1_accuracy']:>8.3f}"
            f"{tatoeba['top5_accuracy']:>8.3f}"
            if tatoeba
            else f"{'(no local Tatoeba file)':>34}"
        )
        print(f"{model[-28:]:<28}{hits['top1']:>14.3f}{hits['top5']:>8.3f}{held_out}")
        if args.misses:
            for prompt, words, _, hit in hits["rows"]:
                if not hit:
                    print(f"    missed: {prompt!r} -> {', '.join(words)}")


if __name__ == "__main__":
    main()
