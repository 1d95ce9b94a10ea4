"""Shared pytest set-up: quiet TensorFlow, deterministic seeds, float32 policy after each test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import pytest


@pytest.fixture(autouse=True)
def _seed_and_restore_policy():
    keras.utils.set_random_seed(1234)
    yield
    keras.config.set_dtype_policy("float32")


# Shared by the translation tests: a made-up English/Spanish grammar and a tiny translator
# fitted on it once per session.

_SUBJECTS = [("cat", "gato"), ("dog", "perro"), ("boy", "niño"), ("bird", "pájaro")]
_ADJECTIVES = [("red", "rojo"), ("big", "grande"), ("small", "pequeño"), ("black", "negro")]
_VERBS = [("eats", "come", "eat"), ("sleeps", "duerme", "sleep"), ("runs", "corre", "run")]
_ADVERBS = [("", ""), (" now", " ahora"), (" here", " aquí")]


def synthetic_pair_lines() -> list[str]:
    """`English<TAB>Spanish` lines: statements and questions over a small vocabulary."""
    lines = []
    for noun, sustantivo in _SUBJECTS:
        for adjective, adjetivo in _ADJECTIVES:
            for verb, verbo, infinitive in _VERBS:
                for adverb, adverbio in _ADVERBS:
                    lines.append(
                        f"The {adjective} {noun} {verb}{adverb}.\t"
                        f"El {sustantivo} {adjetivo} {verbo}{adverbio}."
                    )
                    lines.append(
                        f"Does the {adjective} {noun} {infinitive}{adverb}?\t"
                        f"¿{verbo.capitalize()} el {sustantivo} {adjetivo}{adverbio}?"
                    )
    return lines


TINY_TRANSLATOR = {
    "max_length": 16,
    "source_vocabulary_size": 300,
    "target_vocabulary_size": 300,
    "hidden_dim": 32,
    "num_heads": 2,
    "intermediate_dim": 64,
    "num_encoder_layers": 1,
    "num_decoder_layers": 1,
    "dropout": 0.0,
    "label_smoothing": 0.1,
    "peak_learning_rate": 1e-2,
    "warmup_steps": 30,
    "tokens_per_batch": 96,
    "epochs": 3,
}


@pytest.fixture(scope="session")
def synthetic_pairs_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pairs") / "pairs.txt"
    path.write_text("\n".join(synthetic_pair_lines()) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def tiny_translator_folder(tmp_path_factory, synthetic_pairs_file):
    """A translator folder fitted for 3 epochs on the synthetic pairs (a few seconds)."""
    from apptk.applications.translation import TranslatorConfig, fit_translator

    folder = str(tmp_path_factory.mktemp("models") / "tiny")
    fit_translator(synthetic_pairs_file, folder, TranslatorConfig(**TINY_TRANSLATOR))
    return folder


@pytest.fixture(scope="session")
def tiny_translator(tiny_translator_folder):
    from apptk.applications.translation import Translator

    return Translator.load(tiny_translator_folder)


@pytest.fixture(scope="session")
def tiny_saved_model(tiny_translator, tmp_path_factory):
    """The tiny translator exported for TF Serving, in `.../en_es/1`."""
    from apptk.applications.translation import export_translator

    return export_translator(
        tiny_translator, str(tmp_path_factory.mktemp("serving") / "en_es" / "1")
    )
