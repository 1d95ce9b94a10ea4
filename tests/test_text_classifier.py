import json
from pathlib import Path

import numpy as np
import pytest
from fill_mask_fixtures import (
    LABELS,
    classifier_data,
    encoder_weights,
    exported_model,
    fine_tuned_classifier,
    fitted_folder,
    labelled_lines,
    sentence,
    write_lines,
)

from apptk.applications.errors import DataError, ModelFileError, OutputExistsError
from apptk.applications.fill_mask import load_pretrained_encoder
from apptk.applications.text.checks import MAX_CHARACTERS
from apptk.applications.text_classifier import (
    TextClassifier,
    TextClassifierConfig,
    evaluate_text_classifier,
    fit_text_classifier,
    read_labelled_texts,
)

CLASSES = sorted(set(LABELS.values()))


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """The fill-mask folder's encoder weights and vocabulary, as `load_pretrained_encoder` gives them."""
    encoder, vocabulary = load_pretrained_encoder(fitted_folder(tmp_path_factory))
    return encoder, encoder_weights(encoder), vocabulary


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory):
    return fine_tuned_classifier(tmp_path_factory)


@pytest.fixture(scope="module")
def classifier(fine_tuned) -> TextClassifier:
    return TextClassifier.load(fine_tuned.folder)


@pytest.fixture(scope="module")
def from_scratch(tmp_path_factory):
    return fine_tuned_classifier(tmp_path_factory, from_scratch=True)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, str]:
    return classifier_data(tmp_path_factory)


def assert_same_weights(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)


# Reading labelled files


def test_read_labelled_texts_skips_the_header_and_blank_lines(tmp_path):
    path = write_lines(tmp_path / "data.tsv", ["text\tlabel", "a cat\tpet", "", "  a cow \t farm "])
    assert read_labelled_texts(path) == (["a cat", "a cow"], ["pet", "farm"])


def test_a_header_only_counts_on_the_first_line(tmp_path):
    path = write_lines(tmp_path / "data.tsv", ["a cat\tpet", "text\tlabel"])
    assert read_labelled_texts(path) == (["a cat", "text"], ["pet", "label"])


@pytest.mark.parametrize(
    "bad_line", ["no tab here", "a\tb\tc", "\tpet", "a cat\t", "a cat\t  "], ids=repr
)
def test_a_malformed_line_is_a_data_error_naming_its_number(tmp_path, bad_line):
    path = write_lines(tmp_path / "data.tsv", ["text\tlabel", "a cat\tpet", bad_line, "x\ty"])
    with pytest.raises(DataError, match="line 3: expected 'text<TAB>label'"):
        read_labelled_texts(path)


def test_reading_a_missing_or_empty_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_labelled_texts(str(tmp_path / "missing.tsv"))
    with pytest.raises(DataError, match="no labelled texts"):
        read_labelled_texts(write_lines(tmp_path / "empty.tsv", ["text\tlabel", ""]))


def test_reading_a_file_that_is_not_utf8_is_a_data_error(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("caf\xe9\tdrink\n".encode("latin-1"))
    with pytest.raises(DataError, match="Line 1 of .* is not valid UTF-8"):
        read_labelled_texts(str(path))


# Refusals before any training


def test_a_single_label_is_a_data_error(tmp_path):
    texts = [line.split("\t")[0] for line in labelled_lines(60)]
    path = write_lines(tmp_path / "one.tsv", [f"{text}\tpet" for text in texts])
    with pytest.raises(DataError, match="single label"):
        fit_text_classifier(path, str(tmp_path / "model"), encoder="unused")
    assert not (tmp_path / "model").exists()


def test_validation_labels_never_seen_in_training_are_a_data_error(tmp_path):
    train = write_lines(tmp_path / "train.tsv", labelled_lines(30))
    validation = write_lines(tmp_path / "val.tsv", ["the cat sits\tpet", "a fox runs\tfox"])
    with pytest.raises(DataError, match="never seen in training: fox"):
        fit_text_classifier(train, str(tmp_path / "model"), encoder="unused", validation=validation)


def test_too_few_texts_to_hold_out_need_a_validation_file(tmp_path):
    path = write_lines(tmp_path / "tiny.tsv", ["the cat sits\tpet", "the cow eats\tfarm"])
    with pytest.raises(DataError, match="--val"):
        fit_text_classifier(path, str(tmp_path / "model"), encoder="unused")


def test_the_default_learning_rate_depends_on_pretraining():
    assert TextClassifierConfig().resolved_learning_rate() == 1e-4
    assert TextClassifierConfig(pretrained=False).resolved_learning_rate() == 5e-4
    assert TextClassifierConfig(learning_rate=0.01).resolved_learning_rate() == 0.01


# Fine-tuning


def test_load_encoder_reads_a_folder_and_its_export_alike(tmp_path_factory, pretrained):
    _, weights, vocabulary = pretrained
    from_export, export_vocabulary = load_pretrained_encoder(exported_model(tmp_path_factory))
    assert export_vocabulary == vocabulary
    assert_same_weights(encoder_weights(from_export), weights)
    folder_vocabulary = Path(fitted_folder(tmp_path_factory), "vocabulary.txt").read_text()
    assert vocabulary == folder_vocabulary.splitlines()


def test_fine_tuning_writes_a_classifier_folder(fine_tuned, tmp_path_factory):
    folder = Path(fine_tuned.folder)
    for name in ("config.json", "vocabulary.txt", "model.weights.h5", "history.csv"):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    fill_mask_config = json.loads(Path(fitted_folder(tmp_path_factory), "config.json").read_text())
    assert config["kind"] == "text-classifier"
    assert config["labels"] == CLASSES and config["pretrained"] is True
    for name in ("max_length", "hidden_dim", "num_heads", "intermediate_dim", "num_layers"):
        assert config[name] == fill_mask_config[name], name
    assert (folder / "vocabulary.txt").read_text() == Path(
        fitted_folder(tmp_path_factory), "vocabulary.txt"
    ).read_text()


def test_fine_tuning_starts_from_the_pretrained_encoder(fine_tuned, classifier, pretrained):
    _, weights, _ = pretrained
    assert_same_weights(fine_tuned.initial_encoder_weights, weights)
    # ... and trains it: the fine-tuned encoder has moved away from its start.
    tuned = encoder_weights(classifier.model.encoder)
    token_embeddings = "encoder/embedding/token_embedding/embeddings"
    assert np.abs(tuned[token_embeddings] - weights[token_embeddings]).max() > 1e-3


def test_from_scratch_starts_from_a_fresh_encoder_of_the_same_size(from_scratch, pretrained):
    _, weights, _ = pretrained
    fresh = from_scratch.initial_encoder_weights
    assert {name: value.shape for name, value in fresh.items()} == {
        name: value.shape for name, value in weights.items()
    }
    same = [name for name in weights if np.allclose(fresh[name], weights[name], atol=1e-3)]
    # Only the attention key biases, which get no gradient, are zero in both.
    assert all(name.endswith("key_bias") for name in same), same
    config = json.loads(Path(from_scratch.folder, "config.json").read_text())
    assert config["pretrained"] is False and config["hidden_dim"] == 64


def test_refitting_without_force_is_refused(fine_tuned, data, tmp_path_factory):
    with pytest.raises(OutputExistsError, match="--force"):
        fit_text_classifier(
            data["train"], fine_tuned.folder, encoder=fitted_folder(tmp_path_factory)
        )


# Classifying


def test_the_fine_tuned_classifier_labels_the_test_file(classifier, data):
    texts, labels = read_labelled_texts(data["test"])
    predicted = [row[0]["label"] for row in classifier(texts)]
    assert np.mean(np.array(predicted) == np.array(labels)) >= 0.9


def test_every_label_is_listed_likeliest_first(classifier):
    rows = classifier(["the old dog sleeps on the rug .", "a fish"])
    for row in rows:
        assert sorted(item["label"] for item in row) == CLASSES
        probabilities = [item["probability"] for item in row]
        assert probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) == pytest.approx(1, abs=2e-4)
    assert classifier("the old dog sleeps on the rug .") == rows[:1]


def test_probabilities_do_not_depend_on_the_batch(classifier, data):
    texts, _ = read_labelled_texts(data["test"])
    texts = texts[:10] + ["cat", "the " * 30 + "cow"]
    together = classifier.probabilities(texts)
    in_twos = classifier.probabilities(texts, batch_size=2)
    np.testing.assert_allclose(in_twos, together, atol=1e-5)
    for row, text in enumerate(texts[:3]):
        np.testing.assert_allclose(classifier.probabilities([text])[0], together[row], atol=1e-5)


def test_texts_longer_than_the_encoder_reads_are_cut(classifier):
    words = " ".join(sentence(noun) for noun in ("cat", "dog", "bird")).split()  # 21 words
    kept = classifier.config.max_length - 2  # [START] and [END] take two places
    long, cut = " ".join(words), " ".join(words[:kept])
    np.testing.assert_allclose(
        classifier.probabilities([long]), classifier.probabilities([cut]), atol=1e-6
    )


@pytest.mark.parametrize("text", ["", "  "])
def test_empty_text_is_a_data_error(classifier, text):
    with pytest.raises(DataError, match="empty"):
        classifier(["the cat", text])


def test_text_over_the_character_limit_is_a_data_error(classifier):
    with pytest.raises(DataError, match="10,000"):
        classifier(["a" * (MAX_CHARACTERS + 1)])


def test_loading_a_missing_or_wrong_folder_is_a_model_file_error(tmp_path, tmp_path_factory):
    with pytest.raises(ModelFileError, match="not an apptk model folder"):
        TextClassifier.load(str(tmp_path / "nothing"))
    with pytest.raises(ModelFileError, match="'fill-mask' model, not a 'text-classifier'"):
        TextClassifier.load(fitted_folder(tmp_path_factory))


# Evaluating


def test_evaluation_metrics_equal_a_hand_computation(classifier, tmp_path, data):
    """Some texts carry a wrong label, so precision and recall are not all 1."""
    lines = Path(data["test"]).read_text().splitlines()[:30]
    wrong = {"pet": "wild", "wild": "farm", "farm": "pet"}
    for number in (0, 4, 9, 13):
        text, label = lines[number].split("\t")
        lines[number] = f"{text}\t{wrong[label]}"
    path = write_lines(tmp_path / "noisy.tsv", lines)

    texts, labels = read_labelled_texts(path)
    predicted = np.array(classifier.config.labels)[
        np.argmax(classifier.probabilities(texts), axis=1)
    ]
    labels = np.array(labels)
    metrics = evaluate_text_classifier(classifier, path)
    assert metrics["texts"] == 30
    assert metrics["accuracy"] == pytest.approx(np.mean(predicted == labels), abs=1e-4)
    assert metrics["accuracy"] < 1
    for name in CLASSES:
        hits = np.sum((predicted == name) & (labels == name))
        predicted_count, true_count = np.sum(predicted == name), np.sum(labels == name)
        # Undefined where a label is never predicted (precision) or never present (recall).
        expected_precision = hits / predicted_count if predicted_count else None
        expected_recall = hits / true_count if true_count else None
        assert metrics[f"precision[{name}]"] == pytest.approx(expected_precision, abs=1e-4)
        assert metrics[f"recall[{name}]"] == pytest.approx(expected_recall, abs=1e-4)
    assert metrics["texts_per_second"] > 0


def test_evaluation_of_a_malformed_file_is_a_data_error(classifier, tmp_path):
    path = write_lines(tmp_path / "bad.tsv", ["the cat\tpet", "oops"])
    with pytest.raises(DataError, match="line 2"):
        evaluate_text_classifier(classifier, path)


def test_unknown_labels_and_no_texts_are_data_errors(classifier, tmp_path):
    path = write_lines(tmp_path / "other.tsv", ["the cat sits\tpet", "the ship sails\tboat"])
    with pytest.raises(DataError, match="not trained on: boat"):
        evaluate_text_classifier(classifier, path)
    with pytest.raises(DataError, match="No texts"):
        classifier.probabilities([])
