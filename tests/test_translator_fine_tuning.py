"""Fine-tuning a translator (`fit translate --init-from`): from a fitted folder or an export,
its vocabularies, size and weights carried over."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from cli_checks import error_lines, invoke
from conftest import TINY_TRANSLATOR

from apptk.applications.errors import ModelFileError
from apptk.applications.run import model_folder
from apptk.applications.text.wordpiece import read_vocabulary
from apptk.applications.translation import Translator, TranslatorConfig, fit_translator
from apptk.applications.translation.spec import vocabulary_paths
from apptk.applications.translation.translator import module_from_export, module_from_folder

SENTENCES = ["The red cat eats.", "Does the big dog run now?", "The small bird sleeps here."]


def fitted_weights(folder: str) -> list[np.ndarray]:
    return [np.asarray(w) for w in module_from_folder(folder).model.get_weights()]


def test_an_export_is_rebuilt_as_the_model_it_came_from(tiny_translator_folder, tiny_saved_model):
    rebuilt = module_from_export(tiny_saved_model)
    fitted = module_from_folder(tiny_translator_folder)
    assert rebuilt.config == fitted.config
    for tokenizer in ("source_tokenizer", "target_tokenizer"):
        assert list(getattr(rebuilt, tokenizer).tokens.numpy()) == list(
            getattr(fitted, tokenizer).tokens.numpy()
        )
    for exported, original in zip(rebuilt.model.get_weights(), fitted.model.get_weights()):
        assert exported.dtype == np.float32
        np.testing.assert_allclose(exported, original, atol=1e-3)  # token tables: float16
    sentences = tf.constant(SENTENCES)
    exported = Translator.load(tiny_saved_model)  # kept: its functions need its variables
    assert list(rebuilt.greedy(sentences)["translations"].numpy()) == list(
        exported.module.greedy(sentences)["translations"].numpy()
    )


def fine_tune(data: str, out: str, init_from: str | None, learning_rate: float) -> str:
    sizes = {"hidden_dim": 48, "num_heads": 3, "intermediate_dim": 96}  # the initial's: 32
    config = TranslatorConfig(
        **{**TINY_TRANSLATOR, **sizes, "epochs": 1, "peak_learning_rate": learning_rate},
        init_from=init_from,
    )
    fit_translator(data, out, config)
    return out


def test_fine_tuning_starts_from_the_initial_model(
    tiny_translator_folder, synthetic_pairs_file, tmp_path
):
    # A learning rate too small to move anything: the result is the initial model.
    tuned = fine_tune(synthetic_pairs_file, str(tmp_path / "tuned"), tiny_translator_folder, 1e-9)
    config = model_folder.read_config(tuned, TranslatorConfig)
    assert (config.hidden_dim, config.num_heads, config.intermediate_dim) == (32, 2, 64)
    assert config.init_from == tiny_translator_folder
    for initial, copied in zip(vocabulary_paths(tiny_translator_folder), vocabulary_paths(tuned)):
        assert read_vocabulary(copied) == read_vocabulary(initial)
    for after, before in zip(fitted_weights(tuned), fitted_weights(tiny_translator_folder)):
        np.testing.assert_allclose(after, before, atol=1e-6)


def test_without_init_from_the_same_run_starts_afresh(
    tiny_translator_folder, synthetic_pairs_file, tmp_path
):
    fresh = fine_tune(synthetic_pairs_file, str(tmp_path / "fresh"), None, 1e-9)
    assert model_folder.read_config(fresh, TranslatorConfig).hidden_dim == 48
    assert len(fitted_weights(fresh)[0][0]) == 48


def test_fine_tuning_from_an_export_learns_from_its_weights(
    tiny_translator_folder, tiny_saved_model, synthetic_pairs_file, tmp_path
):
    tuned = fine_tune(synthetic_pairs_file, str(tmp_path / "tuned"), tiny_saved_model, 1e-2)
    initial = fitted_weights(tiny_translator_folder)
    after = fitted_weights(tuned)
    assert [w.shape for w in after] == [w.shape for w in initial]
    assert any(not np.allclose(a, b, atol=1e-4) for a, b in zip(after, initial)), "not trained"
    answers = Translator.load(tuned)(SENTENCES, beam_size=1)
    assert all(answer["translation"] for answer in answers)


class _OldExport(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def beam_search(self, sentences):
        return {"translations": sentences}


def test_an_export_without_its_configuration_says_how_to_rebuild_it(tmp_path):
    path = str(tmp_path / "old" / "1")
    tf.saved_model.save(_OldExport(), path)
    with pytest.raises(ModelFileError, match="without its configuration.*fitted_folder_from_old"):
        module_from_export(path)


def test_the_cli_refuses_size_options_with_init_from(tiny_translator_folder, tmp_path):
    apptk = os.path.join(os.path.dirname(sys.executable), "apptk")
    out = tmp_path / "tuned"
    result = subprocess.run(
        [apptk, "fit", "translate", "--init-from", tiny_translator_folder, "--hidden-dim", "64"]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "--hidden-dim cannot be used with --init-from" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize(
    "init_from, message",
    [
        ("next_word", "is a next-word model, not a translation model"),
        ("{missing}", "Model not found"),
        ("{damaged}", "is damaged"),
    ],
)
def test_a_wrong_initial_model_is_one_line_and_writes_nothing(
    init_from, message, synthetic_pairs_file, tmp_path
):
    damaged = tmp_path / "damaged" / "1"
    (damaged / "variables").mkdir(parents=True)
    (damaged / "saved_model.pb").write_bytes(b"\x08\xff\xff\xff not a SavedModel")
    model = {"{missing}": str(tmp_path / "missing"), "{damaged}": str(damaged)}.get(
        init_from, init_from
    )
    out = tmp_path / "tuned"
    result = invoke(
        "fit", "translate", "--init-from", model, "--data", synthetic_pairs_file, "--out", str(out)
    )
    assert result.exit_code == 1, result.output
    lines = error_lines(result)
    assert len(lines) == 1 and message in lines[0], result.output
    assert not out.exists()
