import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from fill_mask_fixtures import (
    SUBJECTS,
    exported_model,
    fitted_folder,
    sentence,
    synthetic_lines,
    tiny_config,
    write_lines,
)

from apptk.applications.errors import DataError, ModelFileError, OutputExistsError
from apptk.applications.fill_mask import (
    FillMasker,
    evaluate_fill_mask,
    export_fill_mask,
    fit_fill_mask,
)
from apptk.applications.fill_mask.data import mask_tokens
from apptk.applications.fill_mask.masker import insert_filler, module_from_export
from apptk.applications.models.sequence_losses import MaskedSequenceLoss, masked_accuracy
from apptk.applications.text.checks import MAX_CHARACTERS
from apptk.applications.text.wordpiece import (
    END_ID,
    MASK_ID,
    RESERVED_TOKENS,
    START_ID,
    read_vocabulary,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_LENGTH = tiny_config().max_length
# `FillMasker.__call__` rounds probabilities to 4 decimals.
ROUNDING = 5e-5 + 1e-6


def probes() -> list[tuple[str, str]]:
    """One sentence per noun, verb, preposition and place with that word masked."""
    cases = []
    for noun, (verb, preposition, place) in SUBJECTS.items():
        words = ["the", noun, verb, preposition, "the", place, "."]
        for index in (1, 2, 3, 5):
            masked = words[:index] + ["[MASK]"] + words[index + 1 :]
            cases.append((" ".join(masked), words[index]))
    return cases


class Fitted:
    """The fitted folder, its masker, vocabulary, and the model called directly."""

    def __init__(self, folder: str):
        self.folder = folder
        self.masker = FillMasker.load(folder)
        self.model = self.masker.module.model
        self.vocabulary = read_vocabulary(os.path.join(folder, "vocabulary.txt"))
        self.index = {token: number for number, token in enumerate(self.vocabulary)}

    def ids(self, text: str) -> list[int]:
        """`[START] ... [END]` tokenized here: the corpus words are whole word pieces."""
        words = text.lower().replace("[mask]", " [MASK] ").split()
        return [START_ID] + [self.index[word] for word in words] + [END_ID]

    def log_probabilities(self, ids: list[int], positions: list[int]) -> np.ndarray:
        """Log-softmax of the Keras model's logits at `positions`, float64."""
        logits = self.model(
            {
                "token_ids": np.array([ids], "int32"),
                "mask_positions": np.array([positions], "int32"),
            }
        )
        logits = np.asarray(logits, "float64")[0]
        logits -= logits.max(-1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(-1, keepdims=True))

    def filler_probabilities(self, text: str) -> np.ndarray:
        """`[masks, vocabulary]` probabilities over the word pieces, reserved tokens excluded."""
        ids = self.ids(text)
        positions = [i for i, token in enumerate(ids) if token == MASK_ID]
        logits = self.log_probabilities(ids, positions)
        logits[:, : len(RESERVED_TOKENS)] = -np.inf
        exponentials = np.exp(logits - logits.max(-1, keepdims=True))
        return exponentials / exponentials.sum(-1, keepdims=True)


def raw_fill(masker: FillMasker, texts: list[str], top_k: int):
    """Tokens and unrounded probabilities straight from the module's `fill`."""
    result = masker.module.fill(tf.constant(texts), tf.constant(top_k))
    counts = result["mask_counts"].numpy()
    tokens = result["tokens"].numpy()
    return (
        [
            [[t.decode() for t in tokens[row, m]] for m in range(counts[row])]
            for row in range(len(texts))
        ],
        [result["probabilities"].numpy()[row, : counts[row]] for row in range(len(texts))],
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Fitted:
    return Fitted(fitted_folder(tmp_path_factory))


@pytest.fixture(scope="module")
def scored_lines(tmp_path_factory) -> str:
    """40 lines of the grammar, freshly drawn (its 24 sentences were all seen in training)."""
    lines = synthetic_lines(40, seed=7)
    return write_lines(tmp_path_factory.mktemp("scored") / "scored.txt", lines)


# Fitting


def test_fit_writes_a_model_folder(fitted):
    folder = Path(fitted.folder)
    for name in (
        "config.json",
        "vocabulary.txt",
        "model.weights.h5",
        "history.csv",
        "training_curves.png",
    ):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    assert (folder / "training_curves.png").read_bytes().startswith(PNG_SIGNATURE)
    config = json.loads((folder / "config.json").read_text())
    assert config["kind"] == "fill-mask"
    assert (config["hidden_dim"], config["num_layers"], config["max_length"]) == (64, 1, 16)
    assert tuple(fitted.vocabulary[: len(RESERVED_TOKENS)]) == RESERVED_TOKENS
    words = {word for line in synthetic_lines() for word in line.split()}
    assert words <= set(fitted.vocabulary)


def test_fitting_learns_the_masked_words(fitted):
    with open(Path(fitted.folder) / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == list(range(tiny_config().epochs))
    losses = [float(row["val_loss"]) for row in rows]
    assert min(losses[-3:]) < losses[0] / 3
    # Every word but the ending is determined by the others: the ceiling is about 0.9.
    assert float(rows[-1]["masked_accuracy"]) > 0.7


def test_refitting_without_force_is_refused(fitted, tmp_path):
    corpus = write_lines(tmp_path / "corpus.txt", synthetic_lines(50))
    with pytest.raises(OutputExistsError, match="--force"):
        fit_fill_mask(corpus, fitted.folder, tiny_config())


def test_fit_reports_a_missing_corpus(tmp_path):
    with pytest.raises(DataError, match="not found"):
        fit_fill_mask(str(tmp_path / "missing.txt"), str(tmp_path / "model"), tiny_config())


def test_fit_reports_a_corpus_too_small_to_hold_out_lines(tmp_path):
    corpus = write_lines(tmp_path / "corpus.txt", ["the cat sits on the mat ."])
    with pytest.raises(DataError, match="too small"):
        fit_fill_mask(corpus, str(tmp_path / "model"), tiny_config())


# Filling


def test_the_right_filler_ranks_first(fitted):
    cases = probes()
    predictions = fitted.masker([text for text, _ in cases], top_k=3)
    wrong = [
        (text, answer, masks[0][0]["token"])
        for (text, answer), masks in zip(cases, predictions)
        if masks[0][0]["token"] != answer
    ]
    # Training is not bit-reproducible (parallel random masking): allow two misses of 24.
    assert len(wrong) <= 2, wrong


def test_fill_replaces_the_mask_and_keeps_the_text(fitted):
    assert fitted.masker.fill("The cat sits on the [MASK].") == "The cat sits on the mat."


def test_several_masks_in_one_sentence(fitted):
    text = "the [MASK] sleeps on the [MASK] ."
    [masks] = fitted.masker([text], top_k=4)
    expected = fitted.filler_probabilities(text)
    assert len(masks) == 2 and [len(fillers) for fillers in masks] == [4, 4]
    for fillers, row in zip(masks, expected):
        top = np.argsort(-row)[:4]
        assert [filler["token"] for filler in fillers] == [fitted.vocabulary[i] for i in top]
        probabilities = [filler["probability"] for filler in fillers]
        assert probabilities == sorted(probabilities, reverse=True)
        np.testing.assert_allclose(probabilities, row[top], atol=ROUNDING)
    first, second = (fillers[0]["token"] for fillers in masks)
    assert fitted.masker.fill(text) == f"the {first} sleeps on the {second} ."


def test_a_lower_case_mask_is_a_mask(fitted):
    upper = raw_fill(fitted.masker, ["the cat sits on the [MASK] ."], 5)
    for spelling in ("[mask]", "[Mask]"):
        lower = raw_fill(fitted.masker, [f"the cat sits on the {spelling} ."], 5)
        assert lower[0] == upper[0]
        np.testing.assert_allclose(lower[1][0], upper[1][0], atol=1e-6)


@pytest.mark.parametrize(
    "text", ["the [MASK] sits on the mat .", "The Fish swims in the [mask] today .", "[MASK]"]
)
def test_probabilities_are_the_softmax_of_the_models_logits(fitted, text):
    expected = fitted.filler_probabilities(text)
    tokens, probabilities = raw_fill(fitted.masker, [text], 5)
    rounded = fitted.masker([text], top_k=5)[0]
    for mask, row in enumerate(expected):
        top = np.argsort(-row)[:5]
        assert tokens[0][mask] == [fitted.vocabulary[i] for i in top]
        np.testing.assert_allclose(probabilities[0][mask], row[top], atol=1e-5)
        for item, want in zip(rounded[mask], row[top]):
            assert item["probability"] == pytest.approx(want, abs=ROUNDING)


def test_token_ids_wrap_the_text_and_mark_the_masks(fitted):
    text = "The cat [MASK] on the mat."
    ids = fitted.masker.module.token_ids(tf.constant([text, "[MASK]"]))["token_ids"].numpy()
    assert ids[0].tolist() == fitted.ids("The cat [MASK] on the mat .")
    assert ids[1].tolist() == [START_ID, MASK_ID, END_ID] + [0] * (len(ids[0]) - 3)


def test_reserved_tokens_are_never_suggested(fitted):
    words = len(fitted.vocabulary) - len(RESERVED_TOKENS)
    [[fillers]] = fitted.masker(["the cat [MASK] on the mat ."], top_k=len(fitted.vocabulary) + 10)
    assert len(fillers) == words
    assert sorted(filler["token"] for filler in fillers) == sorted(
        fitted.vocabulary[len(RESERVED_TOKENS) :]
    )


def test_a_batch_matches_each_text_alone(fitted):
    texts = ["[MASK]", "the [MASK] swims in the [MASK] today .", "the cow eats [MASK] the field ."]
    tokens, probabilities = raw_fill(fitted.masker, texts, 3)
    for row, text in enumerate(texts):
        alone_tokens, alone_probabilities = raw_fill(fitted.masker, [text], 3)
        assert tokens[row] == alone_tokens[0]
        np.testing.assert_allclose(probabilities[row], alone_probabilities[0], atol=1e-5)
    assert [len(masks) for masks in fitted.masker(texts)] == [1, 2, 1]


def test_a_mask_touching_a_word_is_still_a_mask(fitted):
    touching = raw_fill(fitted.masker, ["the cat[MASK]on the mat."], 3)
    spaced = raw_fill(fitted.masker, ["the cat [MASK] on the mat ."], 3)
    assert touching[0] == spaced[0]
    np.testing.assert_allclose(touching[1][0], spaced[1][0], atol=1e-6)


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_is_a_data_error(fitted, text):
    with pytest.raises(DataError, match="empty"):
        fitted.masker([text])


@pytest.mark.parametrize("text", ["the cat sits on the mat .", "MASK", "[MAS K]"])
def test_text_without_a_mask_is_a_data_error(fitted, text):
    with pytest.raises(DataError, match=r"No \[MASK\]"):
        fitted.masker([text])


def test_text_longer_than_the_model_reads_is_a_data_error(fitted):
    longest = "the cat sits on the mat . the dog sleeps on the rug [MASK]"  # 14 + 2 markers
    assert len(fitted.ids(longest)) == MAX_LENGTH
    assert len(fitted.masker([longest])[0]) == 1
    with pytest.raises(DataError, match=f"17 tokens long; the model reads at most {MAX_LENGTH}"):
        fitted.masker(["the cat [MASK] .", longest + " ."])
    with pytest.raises(DataError, match="10,000"):
        fitted.masker(["[MASK] " + "a" * MAX_CHARACTERS])


def test_top_k_below_one_is_a_data_error(fitted):
    with pytest.raises(DataError, match="top_k"):
        fitted.masker(["the [MASK] sits"], top_k=0)


def test_no_texts_is_a_data_error_and_the_graph_clamps_top_k(fitted):
    with pytest.raises(DataError, match="No texts"):
        fitted.masker([])
    # The exported `fill` signature gets top_k unchecked: it lists at least one filler.
    result = fitted.masker.module.fill(tf.constant(["the [MASK] sits"]), tf.constant(0))
    assert result["tokens"].shape[-1] == 1


@pytest.mark.parametrize(
    "text, filler, expected",
    [
        ("I [MASK] home.", "walked", "I walked home."),
        ("play [MASK] now", "##ing", "playing now"),
        ("a [mask] b [MASK]", "x", "a x b [MASK]"),
    ],
)
def test_insert_filler(text, filler, expected):
    assert insert_filler(text, filler) == expected


# Evaluating


def test_evaluation_is_deterministic_and_scores_well(fitted, scored_lines):
    first = evaluate_fill_mask(fitted.masker, scored_lines)
    second = evaluate_fill_mask(fitted.masker, scored_lines)
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    assert first["lines"] == 40
    assert first["masked_token_accuracy"] > 0.75
    assert 1 < first["pseudo_perplexity"] < 3


def test_pseudo_perplexity_masks_each_word_in_turn(fitted, scored_lines):
    """An independent, one-sentence and one-token-at-a-time computation with the Keras model."""
    lines = Path(scored_lines).read_text().split("\n")[:6]
    path = write_lines(Path(scored_lines).with_name("six.txt"), lines)
    log_likelihood, tokens = 0.0, 0
    for line in lines:
        ids = fitted.ids(line)
        for position in range(1, len(ids) - 1):
            masked = list(ids)
            masked[position] = MASK_ID
            log_likelihood += fitted.log_probabilities(masked, [position])[0, ids[position]]
            tokens += 1
    metrics = evaluate_fill_mask(fitted.masker, path)
    assert metrics["tokens"] == tokens
    assert metrics["pseudo_perplexity"] == pytest.approx(
        math.exp(-log_likelihood / tokens), abs=0.006
    )


def test_masked_token_scores_agree_with_the_training_loss(fitted, scored_lines):
    """The same masks (seed 0, one batch) scored with the training loss and metric."""
    module = fitted.masker.module
    lines = Path(scored_lines).read_text().splitlines()
    token_ids = module.token_ids(tf.constant(lines))["token_ids"].numpy()
    tf.random.set_seed(0)
    inputs, labels = mask_tokens(
        tf.RaggedTensor.from_tensor(token_ids, padding=0), len(fitted.vocabulary), MAX_LENGTH
    )
    logits = fitted.model(inputs)
    loss = float(MaskedSequenceLoss()(labels, logits))
    accuracy = float(masked_accuracy(labels, logits))
    metrics = evaluate_fill_mask(fitted.masker, scored_lines)
    lengths = (token_ids != 0).sum(1) - 2
    assert metrics["masked_tokens"] == int(np.ceil(0.15 * lengths).sum())
    assert metrics["masked_token_perplexity"] == pytest.approx(math.exp(loss), abs=0.006)
    assert metrics["masked_token_accuracy"] == pytest.approx(accuracy, abs=6e-5)


def test_evaluation_limit_and_batches(fitted, scored_lines):
    limited = evaluate_fill_mask(fitted.masker, scored_lines, limit=10)
    batched = evaluate_fill_mask(fitted.masker, scored_lines, limit=10, batch_size=3)
    assert limited["lines"] == batched["lines"] == 10
    assert limited["tokens"] == batched["tokens"]
    assert limited["pseudo_perplexity"] == pytest.approx(batched["pseudo_perplexity"], abs=0.011)


def test_evaluation_of_a_missing_file_is_a_data_error(fitted, tmp_path):
    with pytest.raises(DataError, match="not found"):
        evaluate_fill_mask(fitted.masker, str(tmp_path / "missing.txt"))


# Exporting and loading

SERVING_SCRIPT = """
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401 - registers the tokenizer ops
serve = tf.saved_model.load(sys.argv[2]).signatures["serving_default"]
outputs = serve(texts=tf.constant(json.loads(sys.argv[1])))
assert not [name for name in sys.modules if name.startswith("apptk")]
print(json.dumps({
    "tokens": [[[t.decode() for t in mask] for mask in row] for row in outputs["tokens"].numpy()],
    "probabilities": outputs["probabilities"].numpy().tolist(),
    "mask_counts": outputs["mask_counts"].numpy().tolist(),
}))
"""
SERVING_TEXTS = ["the [MASK] sits on the mat .", "The fish [mask] in the [MASK] .", "🦊 [MASK]"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> str:
    return exported_model(tmp_path_factory)


def test_exported_savedmodel_serves_the_same_fillers_without_apptk(fitted, exported):
    completed = subprocess.run(
        [sys.executable, "-c", SERVING_SCRIPT, json.dumps(SERVING_TEXTS), exported],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    served = json.loads(completed.stdout.strip().splitlines()[-1])
    assert served["mask_counts"] == [1, 2, 1]
    tokens, probabilities = raw_fill(fitted.masker, SERVING_TEXTS, 5)
    for row in range(len(SERVING_TEXTS)):
        count = served["mask_counts"][row]
        assert served["tokens"][row][:count] == tokens[row]
        np.testing.assert_allclose(
            served["probabilities"][row][:count], probabilities[row], atol=1e-5
        )
        # Texts with fewer masks than the batch's most are padded with empty fillers.
        assert all(token == "" for mask in served["tokens"][row][count:] for token in mask)
        assert all(p == 0 for mask in served["probabilities"][row][count:] for p in mask)


def test_a_loaded_export_fills_like_the_folder(fitted, exported):
    loaded = FillMasker.load(exported)
    texts = ["the [MASK] sleeps on the rug .", "the cow [MASK] in the [MASK] ."]
    assert loaded(texts, top_k=3) == fitted.masker(texts, top_k=3)
    assert loaded.fill("The [MASK] reads at the desk.") == fitted.masker.fill(
        "The [MASK] reads at the desk."
    )
    with pytest.raises(DataError, match=f"at most {MAX_LENGTH}"):
        loaded(["the cat sits on the mat . " * 3 + "[MASK]"])


def test_a_keras_model_rebuilt_from_the_export_equals_the_original(fitted, exported):
    rebuilt = module_from_export(exported)
    assert [token.decode() for token in rebuilt.vocabulary.numpy()] == fitted.vocabulary
    assert json.loads(rebuilt.config_json.numpy()) == json.loads(
        Path(fitted.folder, "config.json").read_text()
    )
    ids = np.array([fitted.ids("the cat [MASK] on the mat ."), fitted.ids("[MASK]") + [0] * 6])
    np.testing.assert_array_equal(
        np.asarray(rebuilt.model.encoder(ids)), np.asarray(fitted.model.encoder(ids))
    )

    def paths(model):  # below the model's own name, which Keras numbers per instance
        return [weight.path.split("/", 1)[1] for weight in model.weights]

    assert paths(rebuilt.model) == paths(fitted.model)
    for mine, theirs in zip(rebuilt.model.weights, fitted.model.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_export_refuses_to_overwrite_without_force(fitted, exported):
    with pytest.raises(OutputExistsError, match="--force"):
        export_fill_mask(fitted.masker, exported)


def test_export_needs_a_numeric_version_folder(fitted, tmp_path):
    for name in ("latest", "v1"):
        with pytest.raises(DataError, match="version number"):
            export_fill_mask(fitted.masker, str(tmp_path / "fill_mask" / name))
    assert not (tmp_path / "fill_mask").exists() or not any((tmp_path / "fill_mask").iterdir())


def test_rebuilding_from_a_savedmodel_of_another_kind_is_a_model_file_error(tmp_path):
    module = tf.Module()
    module.double = tf.function(lambda x: 2 * x, input_signature=[tf.TensorSpec([], tf.float32)])
    tf.saved_model.save(module, str(tmp_path / "other" / "1"))
    with pytest.raises(ModelFileError, match="not an apptk fill-mask model"):
        module_from_export(str(tmp_path / "other" / "1"))


def test_sentence_helper_matches_the_corpus():
    assert sentence("cat") == "the cat sits on the mat ."
    assert sentence("man", " now", "old") == "the old man reads at the desk now ."
