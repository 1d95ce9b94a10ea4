import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_TRANSLATOR, synthetic_pair_lines
from tensorflow.core.protobuf import saved_model_pb2

from apptk.applications.errors import DataError, ModelFileError, OutputExistsError
from apptk.applications.run import model_folder, training
from apptk.applications.text.checks import MAX_CHARACTERS
from apptk.applications.text.wordpiece import RESERVED_TOKENS, read_vocabulary
from apptk.applications.translation import (
    Translator,
    TranslatorConfig,
    export_translator,
    fit_translator,
)
from apptk.applications.translation.evaluation import (
    evaluate_translator,
    held_out_references,
    score_translations,
)
from apptk.applications.translation.spec import vocabulary_paths

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SENTENCES = ["The red cat eats.", "Does the big dog run now?", "The small bird sleeps here."]
# Tokenizer ops from tensorflow-text that TF Serving builds have shipped for years.
TF_TEXT_ALLOWLIST = {
    "CaseFoldUTF8",
    "NormalizeUTF8",
    "FastWordpieceTokenizeWithOffsets",
    "WordpieceTokenizeWithOffsets",
    "RegexSplitWithOffsets",
    "FastWordpieceDetokenize",
}


def run_python(script: str, *args: str) -> subprocess.CompletedProcess:
    """Runs `script` in a fresh interpreter; TensorFlow's C++ logs silenced."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def exported(tiny_saved_model):
    return tiny_saved_model


# Fitting


def test_fit_writes_a_model_folder(tiny_translator_folder):
    folder = Path(tiny_translator_folder)
    for name in ("config.json", "model.weights.h5", "history.csv", "training_curves.png"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    assert (folder / "training_curves.png").read_bytes().startswith(PNG_SIGNATURE)
    assert any(path.is_file() for path in (folder / "logs").rglob("*")), "no TensorBoard logs"
    config = json.loads((folder / "config.json").read_text())
    assert config["kind"] == "translation"
    assert {key: config[key] for key in TINY_TRANSLATOR} == TINY_TRANSLATOR
    for path in vocabulary_paths(str(folder)):
        vocabulary = read_vocabulary(path)
        assert tuple(vocabulary[: len(RESERVED_TOKENS)]) == RESERVED_TOKENS
    target = read_vocabulary(vocabulary_paths(str(folder))[1])
    assert {"¿", "gato", "El"} <= set(target)


def test_training_loss_decreased(tiny_translator_folder):
    history = training.read_history(tiny_translator_folder)
    assert len(history["loss"]) == len(history["val_loss"]) == TINY_TRANSLATOR["epochs"]
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_fit_refuses_to_overwrite_a_finished_model(tiny_translator_folder, synthetic_pairs_file):
    weights = Path(tiny_translator_folder) / model_folder.WEIGHTS_FILE
    modified = weights.stat().st_mtime_ns
    with pytest.raises(OutputExistsError, match="--force"):
        fit_translator(
            synthetic_pairs_file, tiny_translator_folder, TranslatorConfig(**TINY_TRANSLATOR)
        )
    assert weights.stat().st_mtime_ns == modified


def test_resume_continues_from_the_last_epoch(
    tiny_translator_folder, synthetic_pairs_file, tmp_path
):
    folder = tmp_path / "resumed"
    shutil.copytree(tiny_translator_folder, folder)
    more = TranslatorConfig(**{**TINY_TRANSLATOR, "epochs": TINY_TRANSLATOR["epochs"] + 1})
    summary = fit_translator(synthetic_pairs_file, str(folder), more, resume=True)
    assert summary["epochs"] == 1
    before = training.read_history(tiny_translator_folder)
    after = training.read_history(str(folder))
    assert len(after["loss"]) == len(before["loss"]) + 1
    assert after["loss"][:-1] == before["loss"]
    assert after["loss"][-1] < before["loss"][0]
    assert summary["best_val_loss"] == min(after["val_loss"])


def test_a_run_stopped_after_its_last_epoch_finishes_with_its_best_loss(
    tiny_translator_folder, synthetic_pairs_file, tmp_path
):
    folder = tmp_path / "stopped"
    shutil.copytree(tiny_translator_folder, folder)
    (folder / model_folder.WEIGHTS_FILE).unlink()  # stopped before the model was written
    config = TranslatorConfig(**TINY_TRANSLATOR)
    summary = fit_translator(synthetic_pairs_file, str(folder), config, resume=True)
    assert summary["epochs"] == 0
    assert summary["best_val_loss"] == min(training.read_history(str(folder))["val_loss"])
    assert (folder / model_folder.WEIGHTS_FILE).exists()


# Translating


def test_translate_a_list_and_a_single_string(tiny_translator):
    answers = tiny_translator(SENTENCES)
    assert len(answers) == len(SENTENCES)
    for answer in answers:
        assert set(answer) == {"translation", "score"}
        assert isinstance(answer["translation"], str) and answer["translation"]
        assert isinstance(answer["score"], float) and answer["score"] <= 0.0
    assert tiny_translator(SENTENCES[1]) == [answers[1]]


def test_scores_do_not_depend_on_the_beam(tiny_translator):
    sentences = [line.split("\t")[0] for line in synthetic_pair_lines()[::40]]
    greedy = tiny_translator(sentences, beam_size=1)
    beam = tiny_translator(sentences, beam_size=4)
    same = [(g, b) for g, b in zip(greedy, beam) if g["translation"] == b["translation"]]
    assert same, "greedy and beam search should agree on some sentences"
    for greedy_answer, beam_answer in same:
        assert beam_answer["score"] == pytest.approx(greedy_answer["score"], abs=1e-3)


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_a_data_error(tiny_translator, text):
    with pytest.raises(DataError, match="empty"):
        tiny_translator([SENTENCES[0], text])


def test_huge_text_is_a_data_error(tiny_translator):
    huge = "The red cat eats. " * (MAX_CHARACTERS // 18 + 1)
    assert len(huge.strip()) > MAX_CHARACTERS
    with pytest.raises(DataError, match="limit is 10,000"):
        tiny_translator(huge)


def test_long_text_is_translated_sentence_by_sentence(tiny_translator):
    sentences = [line.split("\t")[0] for line in synthetic_pair_lines()[:12:2]]
    text = " ".join(sentences)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answer = tiny_translator(text)[0]
    assert not [w for w in caught if "longer than the model" in str(w.message)]
    alone = tiny_translator(sentences)
    assert answer["translation"] == " ".join(a["translation"] for a in alone)
    mean_score = sum(a["score"] for a in alone) / len(alone)
    assert answer["score"] == pytest.approx(mean_score, abs=1e-3)


def test_a_sentence_too_long_is_split_at_clauses_then_words_and_loses_nothing(tiny_translator):
    sentence = "the red cat eats, " + " ".join(["the red cat eats"] * 6) + "."
    pieces, cut = tiny_translator._pieces([sentence])
    assert cut == [] and len(pieces[0]) > 2
    assert pieces[0][0] == "the red cat eats,", "the clause boundary comes first"
    assert " ".join(pieces[0]).split() == sentence.split(), "every word is translated"
    assert all(n <= 16 for n in tiny_translator._token_counts(pieces[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "cut off" warning
        answer = tiny_translator(sentence)[0]
    assert answer["translation"]
    assert tiny_translator.too_long([sentence, "The red cat eats."]) == {"split": 1, "cut": 0}


def test_split_length_sets_where_sentences_are_split(tiny_translator):
    assert tiny_translator.split_length == 16, "default: the model's maximum when below 32"
    shorter = Translator(tiny_translator.module, split_length=8)
    sentence = "the red cat eats, the big dog runs now."
    assert 8 < tiny_translator._token_counts([sentence])[0] <= 16
    assert tiny_translator.too_long([sentence]) == {"split": 0, "cut": 0}
    pieces, cut = shorter._pieces([sentence])
    assert cut == [] and len(pieces[0]) > 1
    assert pieces[0][0] == "the red cat eats,", "the clause boundary comes first"
    assert " ".join(pieces[0]).split() == sentence.split(), "every word is translated"
    assert all(n <= 8 for n in shorter._token_counts(pieces[0]))
    assert shorter.too_long([sentence, "The red cat eats."]) == {"split": 1, "cut": 0}
    assert shorter(sentence)[0]["translation"]


@pytest.mark.parametrize("split_length", [0, 17, "8"])
def test_split_length_outside_one_to_the_maximum_is_a_data_error(tiny_translator, split_length):
    with pytest.raises(DataError, match="split_length"):
        Translator(tiny_translator.module, split_length=split_length)


def test_only_a_single_word_too_long_for_the_model_is_cut_with_a_warning(tiny_translator):
    giant = "catdog" * 15  # one word of more word pieces than the model's 16 tokens
    with pytest.warns(UserWarning, match="longer than the model's 16 tokens"):
        answer = tiny_translator(f"the red {giant} eats.")[0]
    assert isinstance(answer["translation"], str)


def test_cross_attention(tiny_translator):
    text = SENTENCES[1]
    translation = tiny_translator(text)[0]["translation"]
    source_tokens, target_tokens, weights = tiny_translator.cross_attention(text, translation)
    assert weights.shape == (len(target_tokens), len(source_tokens))
    assert "".join(source_tokens).replace("##", "") == "doesthebigdogrunnow?"
    assert target_tokens[-1] == "[END]"
    assert np.all(weights >= 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-4)


# Loading errors


def model_folder_with(tmp_path, config) -> str:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    return str(folder)


@pytest.mark.parametrize(
    "config, message",
    [
        ("{not json", "Cannot read"),
        ("[1, 2]", "is not an apptk model configuration"),
        ({"kind": "image_classification"}, "holds a 'image_classification' model"),
        ({"hidden_dim": 32}, "holds a 'unknown' model"),
    ],
)
def test_load_rejects_a_bad_config(tmp_path, config, message):
    with pytest.raises(ModelFileError, match=message):
        Translator.load(model_folder_with(tmp_path, config))


def test_load_rejects_corrupt_weights(tiny_translator_folder, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "source_vocabulary.txt", "target_vocabulary.txt"):
        shutil.copy(Path(tiny_translator_folder) / name, folder / name)
    (folder / model_folder.WEIGHTS_FILE).write_bytes(b"not an HDF5 file")
    with pytest.raises(ModelFileError, match="is damaged"):
        Translator.load(str(folder))


# Exporting


def test_export_writes_a_saved_model(exported):
    assert os.path.basename(exported) == "1"
    assert os.path.isfile(os.path.join(exported, "saved_model.pb"))
    assert os.path.isdir(os.path.join(exported, "variables"))
    assert os.listdir(os.path.dirname(exported)) == ["1"], "staging folder left behind"


def test_export_stores_the_token_tables_in_half_precision(exported):
    checkpoint = tf.train.load_checkpoint(os.path.join(exported, "variables", "variables"))
    dtypes = checkpoint.get_variable_to_dtype_map()
    tables = [name for name in dtypes if "token_embedding" in name and "embeddings" in name]
    assert len(tables) == 2, tables
    assert all(dtypes[name] == tf.float16 for name in tables)
    others = [name for name in dtypes if "kernel" in name]
    assert others and all(dtypes[name] == tf.float32 for name in others)


def test_export_refuses_a_folder_without_a_version(tiny_translator, tmp_path):
    with pytest.raises(DataError, match="does not end in a version number"):
        export_translator(tiny_translator, str(tmp_path / "en_es" / "latest"))
    assert not (tmp_path / "en_es").exists()


def test_export_refuses_to_replace_without_force(tiny_translator, exported):
    # Replacing with force is exercised through the CLI in test_cli.py.
    modified = os.stat(os.path.join(exported, "saved_model.pb")).st_mtime_ns
    with pytest.raises(OutputExistsError, match="--force"):
        export_translator(tiny_translator, exported)
    assert os.listdir(os.path.dirname(exported)) == ["1"]
    assert os.stat(os.path.join(exported, "saved_model.pb")).st_mtime_ns == modified


def test_saved_model_translates_like_the_folder(tiny_translator, exported):
    restored = Translator.load(exported)
    assert restored.max_length == TINY_TRANSLATOR["max_length"]
    for beam_size in (1, 4):
        exported_answers = restored(SENTENCES, beam_size=beam_size)
        fitted_answers = tiny_translator(SENTENCES, beam_size=beam_size)
        assert [a["translation"] for a in exported_answers] == [
            a["translation"] for a in fitted_answers
        ]
        # The export stores the token tables in float16: scores agree to rounding.
        np.testing.assert_allclose(
            [a["score"] for a in exported_answers],
            [a["score"] for a in fitted_answers],
            atol=2e-3,
        )


FRESH_PROCESS_SCRIPT = """
import json, sys
import tensorflow as tf
assert "tensorflow_text" not in sys.modules
core_ops = sorted(dir(tf.raw_ops))
import tensorflow_text  # noqa: F401
model = tf.saved_model.load(sys.argv[1])
result = model.signatures["serving_default"](sentences=tf.constant(json.loads(sys.argv[2])))
assert not [name for name in sys.modules if name.split(".")[0] == "apptk"]
translations = [t.decode("utf-8") for t in result["translations"].numpy()]
print(json.dumps({"core_ops": core_ops, "translations": translations}))
"""


@pytest.fixture(scope="module")
def fresh_process(exported):
    """What a fresh interpreter with only tensorflow (then tensorflow_text) sees and serves.

    `core_ops` are the ops `tf.raw_ops` offers before tensorflow_text is imported.
    """
    result = run_python(FRESH_PROCESS_SCRIPT, exported, json.dumps(SENTENCES))
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_saved_model_serves_without_apptk(tiny_translator, fresh_process):
    expected = [answer["translation"] for answer in tiny_translator(SENTENCES, beam_size=4)]
    assert fresh_process["translations"] == expected


def test_saved_model_cli_shows_the_serving_signature(exported):
    saved_model_cli = Path(sys.executable).parent / "saved_model_cli"
    result = subprocess.run(
        [
            str(saved_model_cli),
            "show",
            "--dir",
            exported,
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    inputs, outputs = result.stdout.split("contains the following output(s):")
    assert "inputs['sentences']" in inputs and "DT_STRING" in inputs
    assert "outputs['translations']" in outputs and "outputs['scores']" in outputs


def graph_ops(saved_model_dir: str) -> set[str]:
    """Every op type in the SavedModel's graphs and function library (calls excluded)."""
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(Path(saved_model_dir, "saved_model.pb").read_bytes())
    ops, functions = set(), set()
    for meta_graph in saved_model.meta_graphs:
        ops |= {node.op for node in meta_graph.graph_def.node}
        for function in meta_graph.graph_def.library.function:
            functions.add(function.signature.name)
            ops |= {node.op for node in function.node_def}
    return ops - functions


def test_saved_model_uses_only_core_and_allowlisted_ops(exported, fresh_process):
    core_ops = set(fresh_process["core_ops"])
    assert "StatelessWhile" in core_ops and not core_ops & TF_TEXT_ALLOWLIST
    ops = graph_ops(exported)
    assert {"FastWordpieceTokenizeWithOffsets", "StringJoin", "TopKV2"} <= ops
    assert not {op for op in ops if op.startswith("Xla")}
    assert ops - core_ops - TF_TEXT_ALLOWLIST == set()


# Evaluating


def test_evaluate_translator(tiny_translator, synthetic_pairs_file):
    sources, _ = held_out_references(synthetic_pairs_file, limit=20)
    assert sources
    metrics = evaluate_translator(tiny_translator, synthetic_pairs_file, limit=20)
    assert metrics["sentences"] == len(sources)
    for name in ("bleu", "chrf"):
        assert isinstance(metrics[name], float) and 0.0 <= metrics[name] <= 100.0
    assert metrics["sentences_per_second"] > 0
    assert metrics["beam_size"] == 4


def test_score_identical_translations():
    hypotheses = ["El gato rojo come ahora.", "¿Dónde está la estación de tren?"]
    scores = score_translations(hypotheses, [[h] for h in hypotheses])
    assert (scores["bleu"], scores["chrf"]) == (100.0, 100.0)
    assert "tok:13a" in scores["signature"] and "nrefs:1" in scores["signature"]


def test_score_with_a_varying_number_of_references():
    references = [
        ["El perro negro duerme hoy en la casa.", "El perro negro está durmiendo hoy."],
        ["Tengo que irme ahora mismo, adiós."],
        ["¿Cómo estás?", "¿Qué tal estás hoy?", "¿Cómo te va, amigo mío?"],
    ]
    last_references = [refs[-1] for refs in references]
    assert score_translations(last_references, references)["bleu"] == 100.0
    reordered = [list(reversed(refs)) for refs in references]
    wrong = ["El gato come.", "Me voy.", "Hola."]
    assert score_translations(wrong, references) == score_translations(wrong, reordered)
    assert score_translations(wrong, references)["bleu"] < 50.0


def test_formal_share_counts_sentences_that_say_usted():
    from apptk.applications.translation.evaluation import formal_share

    texts = ["¿Cómo está usted?", "¿Cómo estás?", "Ustedes son amables.", "Pregúntele."]
    assert formal_share(texts) == 0.5
    assert formal_share(["Mustedes no es una palabra.", "ustedes"]) == 0.5
    assert formal_share([]) == 0.0


def test_placeholders_kept_needs_the_same_placeholders_as_often():
    from apptk.applications.translation.evaluation import placeholders_kept

    sources = ["Open %s now", "Hello", "%d of %d files", "Copy {0} to {1}"]
    translations = ["Abre %s ya", "Hola", "%d archivos", "Copia {1} en {0}"]
    # "%d of %d" lost one %d; {0}/{1} swapped places, which Spanish word order may need.
    assert placeholders_kept(sources, translations) == {
        "placeholder_sentences": 3,
        "placeholders_kept": round(2 / 3, 4),
    }
    assert placeholders_kept(["Hi"], ["Hola %s"]) == {
        "placeholder_sentences": 0,
        "placeholders_kept": None,
    }


# Public test sets: scored whole, never trained on


def test_a_known_test_set_is_refused_for_training_by_name_or_content(
    synthetic_pairs_file, tmp_path
):
    from apptk.applications.translation import test_sets

    named = tmp_path / "TICO-19_test.tsv"
    named.write_text("Hello.\tHola.\n", encoding="utf-8")
    with pytest.raises(DataError, match="tico19 test set"):
        fit_translator(str(named), str(tmp_path / "model"))
    renamed = tmp_path / "my_pairs.tsv"
    renamed.write_bytes(Path(synthetic_pairs_file).read_bytes())
    assert test_sets.known_test_set(str(renamed)) is None
    digest = test_sets._sha256(str(renamed))
    original = dict(test_sets.TEST_SETS)
    test_sets.TEST_SETS["synthetic"] = digest
    try:
        assert test_sets.known_test_set(str(renamed)) == "synthetic"
    finally:
        test_sets.TEST_SETS.clear()
        test_sets.TEST_SETS.update(original)
    assert not (tmp_path / "model").exists()


def test_evaluate_scores_a_whole_test_file_and_counts_long_inputs(tiny_translator, tmp_path):
    lines = synthetic_pair_lines()[:12]
    long_english = " ".join(line.split("\t")[0] for line in lines[:6])  # far over 16 tokens
    path = tmp_path / "test.tsv"
    path.write_text("\n".join(lines + [f"{long_english}\tLargo."]) + "\n", encoding="utf-8")
    metrics = evaluate_translator(tiny_translator, test_file=str(path), beam_size=1)
    assert metrics["sentences"] == 13
    assert metrics["split_share"] == round(1 / 13, 4)
    assert metrics["reference_usted_share"] == 0.0  # the synthetic pairs never say usted
    assert metrics["placeholder_sentences"] == 0 and metrics["placeholders_kept"] is None
    assert 0 <= metrics["bleu"] <= 100 and "signature" in metrics


def test_several_weighted_data_files_are_split_alike_and_oversampled(
    synthetic_pairs_file, tmp_path
):
    from apptk.applications.translation.training_pairs import (
        training_pair_splits,
        weighted_source,
    )

    lines = [f"Tom reads book {number}.\tTom lee el libro {number}." for number in range(60)]
    small = tmp_path / "small.tsv"
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert weighted_source(f"{small}:3") == (str(small), 3)
    assert weighted_source(str(small)) == (str(small), 1)
    with pytest.raises(DataError, match="at least 1"):
        weighted_source(f"{small}:0")
    alone = training_pair_splits(str(small))
    both = training_pair_splits([synthetic_pairs_file, f"{small}:3"])
    small_train = set(alone["train"])
    assert small_train and set(alone["train"]) <= set(both["train"])
    for pair in small_train:
        assert both["train"].count(pair) == 3
    assert set(alone["test"]) <= set(both["test"]), "a sentence keeps its split across files"
    assert len(both["validation"]) == len(
        training_pair_splits(synthetic_pairs_file)["validation"]
    ) + len(alone["validation"])
