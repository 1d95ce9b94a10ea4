"""Training speed on this machine's CPU with and without XLA (`jit_compile`).

    python bench/training_speed.py [--steps 20] [--repeats 5] [--models translator,lstm,transformer]

Keras compiles a train step with XLA only where it sees an accelerator (`jit_compile="auto"`
is False on a CPU-only machine). Each model here, at the shipped size, trains on one batch of
random token ids of a fixed shape, compiled once without XLA and once with it: the translator
(6.3 M parameters; 32 pairs of 24 word pieces, a typical Tatoeba bucket) and the next-word
models (2x256 LSTM and 2-block Transformer of width 256; 32 windows of 35 words). The first
steps (tracing, XLA compilation) are left out; each repeat times `--steps` steps, and the
medians and their ratio are printed. Fixed shapes are XLA's best case: the translator's real
batches are padded to the longest sentence in each, so every new shape compiles again.
Prints figures, asserts nothing. On 2 CPU cores (2026-12-06, `--steps 10 --repeats 3`): the
translator 2.98 against 3.02 steps/s with XLA (1.01), the LSTM 2.95 against 3.73 (1.26), the
Transformer 3.24 against 3.18 (0.98): XLA is not worth the translator's recompilations.
"""

import argparse
import statistics
import time

import keras
import numpy as np

from apptk.applications.next_word.spec import NextWordConfig, build_language_model
from apptk.applications.next_word.training import compile_language_model
from apptk.applications.translation.spec import TranslatorConfig
from apptk.applications.translation.training import compiled_translator

SOURCE_WORD_PIECES, TARGET_WORD_PIECES, WORDS = 4110, 5955, 8000
BATCH, TRANSLATION_LENGTH, WINDOW = 32, 24, 35


def translator_batch(rng):
    def ids(size):
        return rng.integers(1, size, (BATCH, TRANSLATION_LENGTH)).astype("int32")

    inputs = {"source": ids(SOURCE_WORD_PIECES), "target": ids(TARGET_WORD_PIECES)}
    return compiled_translator(TranslatorConfig(), SOURCE_WORD_PIECES, TARGET_WORD_PIECES), (
        inputs,
        ids(TARGET_WORD_PIECES),
    )


def next_word_batch(cell):
    def build(rng):
        config = NextWordConfig(cell=cell, vocabulary_size=WORDS, embedding_dim=256, units=256)
        model = build_language_model(config, WORDS)
        compile_language_model(model, config)
        ids = rng.integers(1, WORDS, (BATCH, WINDOW + 1)).astype("int32")
        return model, (ids[:, :-1], ids[:, 1:])

    return build


MODELS = {
    "translator": translator_batch,
    "lstm": next_word_batch("lstm"),
    "transformer": next_word_batch("transformer"),
}


def steps_per_second(name: str, jit_compile: bool, steps: int, repeats: int) -> list[float]:
    keras.utils.set_random_seed(0)
    model, (inputs, labels) = MODELS[name](np.random.default_rng(0))
    model.jit_compile = jit_compile
    for _ in range(3):
        model.train_on_batch(inputs, labels)
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(inputs, labels)
        rates.append(steps / (time.perf_counter() - started))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    print(f"{'model':<12}{'steps/s':>9}{'XLA':>9}{'ratio':>8}")
    for name in args.models.split(","):
        plain = statistics.median(steps_per_second(name, False, args.steps, args.repeats))
        xla = statistics.median(steps_per_second(name, True, args.steps, args.repeats))
        print(f"{name:<12}{plain:>9.2f}{xla:>9.2f}{xla / plain:>8.2f}")


if __name__ == "__main__":
    main()
