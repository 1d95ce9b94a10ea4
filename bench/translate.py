"""Translator benchmark: test-split quality, decoding speed against the naive way, cold start.

    python bench/translate.py [--model PATH] [--data PATH] [--limit N] [--naive N] [--repeats R]
                              [--test FILE ...] [--only-quality]

Prints figures, asserts nothing. Reads the local Tatoeba copy in ../shared/data by default,
and scores each --test file whole (default: the local TICO-19 copy, a general and medical
test set never trained on) with the share of its sentences split or cut for length.
The naive baseline is the classic Keras example's decoding: the whole model re-run over the
growing prefix at every step, one sentence at a time, no cache; it runs on the same model and
the same sentences in this process, so the printed ratio compares like with like.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import tensorflow as tf

from apptk.applications.text.wordpiece import END_ID, START_ID
from apptk.applications.translation import Translator
from apptk.applications.translation.evaluation import (
    evaluate_translator,
    formal_share,
    held_out_references,
    score_translations,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_PAIRS = os.path.join(ROOT, "..", "shared", "data", "spa-eng.zip")
LOCAL_TICO19 = os.path.join(ROOT, "..", "shared", "data", "en_es_extra", "tico19_test.tsv")


def naive_translate(module, sentence: str, max_length: int) -> list[int]:
    """Greedy decoding without a cache: one full forward pass per generated token."""
    prefix = [START_ID]
    sentences = tf.constant([sentence])
    for _ in range(max_length):
        logits = module.teacher_forced_logits(sentences, tf.constant([prefix], tf.int32))["logits"]
        token = int(tf.argmax(logits[0, -1]))
        if token == END_ID:
            break
        prefix.append(token)
    return prefix[1:]


def timed(function, repeats: int):
    """Median wall time of `repeats` calls (after one warm-up call) and the last result."""
    result = function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def cold_start(model: str | None, repeats: int) -> tuple[float, float]:
    """Median wall seconds of `apptk translate` and of `python -c "import tensorflow"`."""
    apptk = os.path.join(os.path.dirname(sys.executable), "apptk")
    command = [apptk, "translate", "Hello, how are you?"] + (["--model", model] if model else [])
    baseline = [sys.executable, "-c", "import tensorflow"]

    def run(arguments):
        started = time.perf_counter()
        subprocess.run(arguments, check=True, capture_output=True)
        return time.perf_counter() - started

    translate_times, import_times = [], []
    for _ in range(repeats):  # interleaved, so machine noise hits both alike
        import_times.append(run(baseline))
        translate_times.append(run(command))
    return statistics.median(translate_times), statistics.median(import_times)


def placeholder_note(metrics: dict) -> str:
    if not metrics["placeholder_sentences"]:
        return ""
    return (
        f", placeholders kept in {metrics['placeholders_kept']:.1%} of "
        f"{metrics['placeholder_sentences']} sentences"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=None, help="model folder or SavedModel (default: shipped)"
    )
    parser.add_argument("--data", default=LOCAL_PAIRS if os.path.exists(LOCAL_PAIRS) else None)
    parser.add_argument("--limit", type=int, default=None, help="test sentences to score")
    parser.add_argument("--naive", type=int, default=40, help="sentences for the naive baseline")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--test",
        action="append",
        default=None,
        help="a test file scored whole, repeatable (default: the local TICO-19 copy)",
    )
    parser.add_argument("--only-quality", action="store_true", help="skip the speed rows")
    parser.add_argument(
        "--split-length", type=int, default=None, help="see `apptk translate --split-length`"
    )
    args = parser.parse_args()
    tests = args.test or ([LOCAL_TICO19] if os.path.exists(LOCAL_TICO19) else [])

    translator = Translator.load(args.model, args.split_length)
    sources, references = held_out_references(args.data, args.limit)
    print(f"test sentences: {len(sources)} (every known translation used as a reference)")
    for beam in (1, 4):
        translator(sources[:64], beam_size=beam)  # trace and optimise the graph first
        started = time.perf_counter()
        answers = translator(sources, beam_size=beam)
        seconds = time.perf_counter() - started
        hypotheses = [a["translation"] for a in answers]
        scores = score_translations(hypotheses, references)
        print(
            f"beam {beam}: BLEU {scores['bleu']:.2f}  chrF {scores['chrf']:.2f}  "
            f"{len(sources) / seconds:.1f} sentences/s (batched, cached), "
            f"usted in {formal_share(hypotheses):.1%} (references "
            f"{formal_share([refs[0] for refs in references]):.1%})"
        )

    for path in tests:
        for beam in (1, 4):
            metrics = evaluate_translator(translator, beam_size=beam, test_file=path)
            print(
                f"{os.path.basename(path)} beam {beam}: BLEU {metrics['bleu']:.2f}  "
                f"chrF {metrics['chrf']:.2f}  {metrics['sentences']} sentences, "
                f"{metrics['sentences_per_second']:.1f}/s, split {metrics['split_share']:.1%}, "
                f"cut {metrics['cut_share']:.1%}, usted in {metrics['usted_share']:.1%} "
                f"(references {metrics['reference_usted_share']:.1%})" + placeholder_note(metrics)
            )
    print(f"sacrebleu: {scores['signature']}")
    if args.only_quality:
        return

    subset = sources[: args.naive]
    naive_seconds, _ = timed(
        lambda: [naive_translate(translator.module, s, translator.max_length) for s in subset],
        args.repeats,
    )
    one_by_one_seconds, _ = timed(
        lambda: [translator([s], beam_size=1) for s in subset], args.repeats
    )
    batched_seconds, _ = timed(lambda: translator(subset, beam_size=1), args.repeats)
    print(f"greedy decoding of {len(subset)} sentences, median of {args.repeats}:")
    print(f"  naive (no cache, one at a time): {len(subset) / naive_seconds:8.1f} sentences/s")
    print(
        f"  cached, one at a time:           {len(subset) / one_by_one_seconds:8.1f} sentences/s"
        f"  ({naive_seconds / one_by_one_seconds:.1f}x naive)"
    )
    print(
        f"  cached, batched:                 {len(subset) / batched_seconds:8.1f} sentences/s"
        f"  ({naive_seconds / batched_seconds:.1f}x naive)"
    )

    translate_seconds, import_seconds = cold_start(args.model, args.repeats)
    print(
        f"cold start: apptk translate {translate_seconds:.2f} s, python -c 'import tensorflow' "
        f"{import_seconds:.2f} s, ratio {translate_seconds / import_seconds:.2f}"
    )


if __name__ == "__main__":
    main()
