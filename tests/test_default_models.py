"""The shipped default models: they load offline, answer sensibly, and stay small."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apptk.applications.next_word import NextWordPredictor
from apptk.applications.run.presets import PRESETS
from apptk.applications.translation import Translator
from apptk.applications.translation.evaluation import held_out_references, score_translations

SHARED_PAIRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "spa-eng.zip"


def folder_megabytes(folder: str) -> float:
    sizes = [f.stat().st_size for f in Path(folder).rglob("*") if f.is_file()]
    return sum(sizes) / 1e6


@pytest.fixture(scope="module")
def translator():
    return Translator.load()


@pytest.fixture(scope="module")
def predictor():
    return NextWordPredictor.load()


def test_default_translator_is_shipped_within_30_megabytes():
    # 7.68 M parameters with 8,000-token vocabularies: 26.5 MB (6.26 M and 23.2 MB before).
    assert os.path.isfile(os.path.join(PRESETS["en_es"].path, "saved_model.pb"))
    assert folder_megabytes(PRESETS["en_es"].path) <= 30.0


def test_default_next_word_model_is_shipped_within_16_megabytes():
    # The Transformer (3.64 M parameters, float32) is 15.7 MB; the LSTM before it 13.1 MB.
    assert os.path.isfile(os.path.join(PRESETS["next_word"].path, "saved_model.pb"))
    assert folder_megabytes(PRESETS["next_word"].path) <= 16.0


def test_default_translator_translates_everyday_sentences(translator):
    answers = translator(["I like cats.", "Where is the train station?"], beam_size=4)
    assert "gatos" in answers[0]["translation"]
    assert "estación" in answers[1]["translation"]
    assert all(answer["translation"].lstrip("¿¡")[0].isupper() for answer in answers)


@pytest.mark.skipif(not SHARED_PAIRS.exists(), reason="needs the local Tatoeba copy")
def test_default_translator_keeps_the_familiar_register(translator):
    # Fine-tuning on software text (which says "usted") must not change everyday Tatoeba "tú".
    answer = translator(["Hello, how are you?"], beam_size=4)[0]["translation"]
    assert answer == "Hola, ¿cómo estás?"


def test_default_translator_export_can_be_fine_tuned():
    from apptk.applications.translation.translator import module_from_export

    module = module_from_export(PRESETS["en_es"].path)
    assert module.config["hidden_dim"] == 256
    assert module.model.count_params() > 6_000_000


@pytest.mark.skipif(not SHARED_PAIRS.exists(), reason="needs the local Tatoeba copy")
def test_default_translator_quality_on_held_out_sentences(translator):
    # The first 150 test-split sentences, never seen in training; measured chrF is far above.
    sources, references = held_out_references(str(SHARED_PAIRS), limit=150)
    hypotheses = [a["translation"] for a in translator(sources, beam_size=1)]
    assert score_translations(hypotheses, references)["chrf"] > 45.0


def test_default_next_word_model_continues_everyday_phrases(predictor):
    suggestions = predictor(["I would like to", "What time is it"], top_k=10)
    assert "go" in [s["word"] for s in suggestions[0]]
    assert "?" in [s["word"] for s in suggestions[1]]
    assert predictor.generate("Tom", length=5, temperature=0.0).startswith("Tom ")


def test_console_script_translates_with_the_default_model():
    apptk = Path(sys.executable).parent / "apptk"
    result = subprocess.run(
        [str(apptk), "translate", "I like cats."],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "gatos" in result.stdout


def test_default_fill_mask_model_is_shipped_within_15_megabytes():
    assert os.path.isfile(os.path.join(PRESETS["fill_mask"].path, "saved_model.pb"))
    assert folder_megabytes(PRESETS["fill_mask"].path) <= 15.0


def test_default_fill_mask_model_fills_everyday_sentences():
    from apptk.applications.fill_mask import FillMasker

    masker = FillMasker.load()
    fillers = masker(["I [MASK] you.", "What [MASK] is it?", "Where [MASK] you going?"], top_k=5)
    tokens = [[filler["token"] for filler in masks[0]] for masks in fillers]
    assert "love" in tokens[0] or "miss" in tokens[0] or "need" in tokens[0]
    assert "time" in tokens[1]
    assert tokens[2][0] == "are"
    probabilities = [filler["probability"] for filler in fillers[0][0]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1.0001
