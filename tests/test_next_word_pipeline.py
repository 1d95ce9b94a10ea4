import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from next_word_fixtures import fitted_folder, synthetic_lines, tiny_config, write_corpus

from apptk.applications.errors import DataError, OutputExistsError
from apptk.applications.next_word import (
    NextWordPredictor,
    evaluate_next_word,
    export_next_word,
    fit_next_word,
)
from apptk.applications.text.checks import MAX_CHARACTERS
from apptk.applications.text.wordpiece import RESERVED_TOKENS, START_ID, UNK_ID, read_vocabulary

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PUNCTUATION = r"([\.\?\!,;:¿¡\"\(\)])"
CONTEXT_LENGTH = tiny_config("transformer").sequence_length
# `NextWordPredictor.__call__` rounds probabilities to 4 decimals.
ROUNDING = 5e-5 + 1e-6


class Fitted:
    """A fitted folder with its predictor, vocabulary and an independent reference computation."""

    def __init__(self, cell: str, folder: str):
        self.cell = cell
        self.folder = folder
        self.predictor = NextWordPredictor.load(folder)
        self.model = self.predictor.module.model
        # A graph, not eager op-by-op execution, so thousands of recurrent steps stay fast.
        self.logits = tf.function(
            lambda ids: self.model(ids), input_signature=[tf.TensorSpec([1, None], tf.int32)]
        )
        self.vocabulary = read_vocabulary(os.path.join(folder, "vocabulary.txt"))
        self.index = {word: position for position, word in enumerate(self.vocabulary)}
        self.context_length = CONTEXT_LENGTH if cell == "transformer" else None

    def context_ids(self, text: str) -> list[int]:
        """`[START]` + word ids, tokenized here with plain Python (lower-case, punctuation split)."""
        words = re.sub(PUNCTUATION, r" \1 ", text.lower()).split()
        return [START_ID] + [self.index.get(word, UNK_ID) for word in words]

    def last_logits(self, ids: list[int]) -> np.ndarray:
        if self.context_length:
            ids = ids[-self.context_length :]
        return self.logits(np.array([ids], "int32"))[0, -1].numpy().astype("float64")

    def probabilities(self, text: str) -> np.ndarray:
        logits = self.last_logits(self.context_ids(text))
        exponentials = np.exp(logits - logits.max())
        return exponentials / exponentials.sum()

    def greedy_words(self, text: str, length: int) -> list[str]:
        """Greedy decoding by re-running the whole (windowed) context at every step, no cache."""
        ids = self.context_ids(text)
        words = []
        for _ in range(length):
            logits = self.last_logits(ids)
            logits[: len(RESERVED_TOKENS)] = -np.inf
            ids.append(int(np.argmax(logits)))
            words.append(self.vocabulary[ids[-1]])
        return words


def raw_predictions(predictor, texts: list[str], top_k: int):
    """Words and unrounded probabilities straight from the module's `predict`."""
    result = predictor.module.predict(tf.constant(texts), tf.constant(top_k))
    words = [[word.decode() for word in row] for row in result["words"].numpy()]
    return words, result["probabilities"].numpy()


def assert_same_predictions(actual, expected, atol=1e-6):
    assert actual[0] == expected[0]
    np.testing.assert_allclose(actual[1], expected[1], atol=atol)


def words_of(text: str) -> list[str]:
    return re.sub(PUNCTUATION, r" \1 ", text).split()


def continuation_words(prompt: str, generated: str) -> list[str]:
    """The generated words as the model's vocabulary spells them (generate restores casing)."""
    assert generated.startswith(prompt), (prompt, generated)
    return words_of(generated[len(prompt) :].lower())


@pytest.fixture(scope="module", params=["lstm", "transformer"])
def fitted(request, tmp_path_factory) -> Fitted:
    return Fitted(request.param, fitted_folder(tmp_path_factory, request.param))


@pytest.fixture(scope="module")
def lstm(tmp_path_factory) -> Fitted:
    return Fitted("lstm", fitted_folder(tmp_path_factory, "lstm"))


@pytest.fixture(scope="module")
def transformer(tmp_path_factory) -> Fitted:
    return Fitted("transformer", fitted_folder(tmp_path_factory, "transformer"))


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
    assert config["kind"] == "next-word" and config["cell"] == fitted.cell
    assert config["sequence_length"] == CONTEXT_LENGTH
    with open(folder / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert all(math.isfinite(float(row["val_loss"])) for row in rows)


def test_vocabulary_holds_the_corpus_words_after_the_reserved_tokens(fitted):
    assert tuple(fitted.vocabulary[: len(RESERVED_TOKENS)]) == RESERVED_TOKENS
    assert {"the", "quick", "fox", "."} <= set(fitted.vocabulary)
    assert len(fitted.vocabulary) == fitted.predictor.module.tokenizer.vocabulary_size <= 300


def test_fitting_reduces_the_validation_loss(fitted):
    with open(Path(fitted.folder) / "history.csv", newline="") as handle:
        losses = [float(row["val_loss"]) for row in csv.DictReader(handle)]
    assert losses[-1] < losses[0]


def test_refitting_without_force_is_refused(lstm, tmp_path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    with pytest.raises(OutputExistsError, match="--force"):
        fit_next_word(corpus, lstm.folder, tiny_config("lstm"))


def test_fit_rejects_an_unknown_cell(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    with pytest.raises(DataError, match="--cell"):
        fit_next_word(corpus, str(tmp_path / "model"), tiny_config("lstm2"))


def test_fit_reports_a_missing_corpus(tmp_path):
    with pytest.raises(DataError, match="not found"):
        fit_next_word(str(tmp_path / "missing.txt"), str(tmp_path / "model"), tiny_config("lstm"))


def test_fit_reports_a_corpus_too_small_to_hold_out_lines(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.txt", synthetic_lines(count=3))
    with pytest.raises(DataError, match="too small"):
        fit_next_word(corpus, str(tmp_path / "model"), tiny_config("lstm"))


# Predicting


def test_predictions_are_top_k_words_with_descending_probabilities(fitted):
    predictions = fitted.predictor(["The quick brown", "a lazy dog"], top_k=4)
    assert len(predictions) == 2
    for row in predictions:
        assert len(row) == 4
        assert all(set(item) == {"word", "probability"} for item in row)
        probabilities = [item["probability"] for item in row]
        assert all(0 < probability <= 1 for probability in probabilities)
        assert probabilities == sorted(probabilities, reverse=True)
        assert len({item["word"] for item in row}) == 4


def test_reserved_tokens_are_never_suggested(fitted):
    real_words = len(fitted.vocabulary) - len(RESERVED_TOKENS)
    for top_k in (real_words, len(fitted.vocabulary) + 10):
        row = fitted.predictor(["the quick brown"], top_k=top_k)[0]
        words = [item["word"] for item in row]
        assert sorted(words) == sorted(fitted.vocabulary[len(RESERVED_TOKENS) :])
        assert not set(words) & set(RESERVED_TOKENS)


def test_top_k_below_one_is_a_data_error(lstm):
    with pytest.raises(DataError, match="top_k"):
        lstm.predictor(["the quick"], top_k=0)


@pytest.mark.parametrize("text", ["the quick brown", "A LAZY DOG, the", "the unknownword fox"])
def test_probabilities_are_the_softmax_of_the_models_last_logits(fitted, text):
    expected = fitted.probabilities(text)
    expected_top = np.argsort(-np.where(np.arange(len(expected)) < 5, -1, expected))[:5]
    predictions = fitted.predictor([text], top_k=5)[0]
    assert {item["word"] for item in predictions} == {fitted.vocabulary[i] for i in expected_top}
    for item in predictions:
        assert item["probability"] == pytest.approx(
            expected[fitted.index[item["word"]]], abs=ROUNDING
        )
    raw = fitted.predictor.module.predict(tf.constant([text]), tf.constant(5))
    words = [word.decode() for word in raw["words"].numpy()[0]]
    np.testing.assert_allclose(
        raw["probabilities"].numpy()[0], [expected[fitted.index[w]] for w in words], atol=1e-6
    )


def test_batched_texts_of_different_lengths_match_each_text_alone(fitted):
    texts = ["the", "the quick brown fox jumps over the lazy", "a cat"]
    words, probabilities = raw_predictions(fitted.predictor, texts, 3)
    for row, text in enumerate(texts):
        alone_words, alone_probabilities = raw_predictions(fitted.predictor, [text], 3)
        assert_same_predictions(
            (words[row], probabilities[row]), (alone_words[0], alone_probabilities[0])
        )


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_a_data_error(lstm, text):
    with pytest.raises(DataError, match="empty"):
        lstm.predictor([text])
    with pytest.raises(DataError, match="empty"):
        lstm.predictor.generate(text, length=2)
    with pytest.raises(DataError, match="empty"):
        lstm.predictor.has_known_words(text)


def test_text_over_the_character_limit_is_a_data_error(lstm):
    with pytest.raises(DataError, match="10,000"):
        lstm.predictor(["a" * (MAX_CHARACTERS + 1)])
    with pytest.raises(DataError, match="10,000"):
        lstm.predictor.generate("fox " * 3000, length=2)
    with pytest.raises(DataError, match="10,000"):
        lstm.predictor.has_known_words("fox " * 3000)
    assert len(lstm.predictor(["a " * (MAX_CHARACTERS // 2)], top_k=2)[0]) == 2


@pytest.mark.parametrize("text", ["🦊🐶🦊", "?!...", "¿¡ 🙂 !"])
def test_emoji_or_punctuation_only_text_still_gets_predictions(fitted, text):
    row = fitted.predictor([text], top_k=3)[0]
    assert len(row) == 3 and all(0 < item["probability"] <= 1 for item in row)
    known = any(word in fitted.index for word in words_of(text))
    assert fitted.predictor.has_known_words(text) is known
    assert len(continuation_words(text, fitted.predictor.generate(text, length=2, seed=1))) == 2


def test_has_known_words(lstm):
    assert lstm.predictor.has_known_words("the Fox")
    assert not lstm.predictor.has_known_words("zyzzyva qwertyuiop")


def test_a_prompt_of_thousands_of_words_works(fitted):
    prompt = "a fox . " * 1200  # 3,600 words in 9,600 characters
    assert len(prompt) <= MAX_CHARACTERS
    expected = fitted.probabilities(prompt)
    row = fitted.predictor([prompt], top_k=3)[0]
    for item in row:
        assert item["probability"] == pytest.approx(
            expected[fitted.index[item["word"]]], abs=ROUNDING
        )
    generated = fitted.predictor.generate(prompt, length=3, temperature=0)
    assert continuation_words(prompt.rstrip(), generated) == fitted.greedy_words(prompt, 3)


def test_the_transformer_reads_only_its_last_context_length_tokens(transformer):
    tail = "the quick brown fox jumps over the lazy dog . a cat"  # 12 tokens
    assert len(transformer.context_ids(tail)) == CONTEXT_LENGTH + 1
    expected = raw_predictions(transformer.predictor, [f"the red man likes {tail}"], 5)
    for head in ("the old horse sees a bird .", "a small red child walks with a dog today ."):
        actual = raw_predictions(transformer.predictor, [f"{head} {tail}"], 5)
        assert_same_predictions(actual, expected)


# Generating


@pytest.mark.parametrize("prompt", ["the quick", "A big dog chases the"])
def test_greedy_generation_equals_argmax_stepping(fitted, prompt):
    length = 3 if fitted.cell == "lstm" else 6
    generated = fitted.predictor.generate(prompt, length=length, temperature=0)
    assert continuation_words(prompt, generated) == fitted.greedy_words(prompt, length)
    assert fitted.predictor.generate(prompt, length=length, temperature=0, seed=9) == generated
    first = fitted.predictor([prompt], top_k=1)[0][0]["word"]
    assert continuation_words(prompt, generated)[0] == first


def test_transformer_generation_slides_past_its_context(transformer):
    """More words than the attention cache holds: each is still the argmax of its window."""
    prompt = "the quick brown fox"
    length = 2 * CONTEXT_LENGTH
    generated = transformer.predictor.generate(prompt, length=length, temperature=0)
    assert continuation_words(prompt, generated) == transformer.greedy_words(prompt, length)


def test_the_same_seed_gives_the_same_text(fitted):
    generate = fitted.predictor.generate
    assert generate("the quick", length=12, temperature=1.0, seed=3) == generate(
        "the quick", length=12, temperature=1.0, seed=3
    )


def test_different_seeds_give_different_texts(fitted):
    texts = {
        fitted.predictor.generate("the quick", length=12, temperature=1.0, seed=seed)
        for seed in range(4)
    }
    assert len(texts) > 1


def test_top_k_of_one_and_a_tiny_top_p_are_greedy(fitted):
    generate = fitted.predictor.generate
    greedy = generate("a lazy", length=6, temperature=0)
    assert generate("a lazy", length=6, temperature=1.0, top_k=1, seed=5) == greedy
    assert generate("a lazy", length=6, temperature=1.0, top_p=0.0001, seed=5) == greedy


@pytest.mark.parametrize("length", [1, 5, 17])
def test_generate_adds_exactly_length_words(fitted, length):
    generated = fitted.predictor.generate("The dog", length=length, temperature=0.8, seed=2)
    words = continuation_words("The dog", generated)
    assert len(words) == length
    assert not set(words) & set(RESERVED_TOKENS)
    assert set(words) <= set(fitted.vocabulary)


def test_generate_rejects_a_length_below_one(lstm):
    with pytest.raises(DataError, match="length"):
        lstm.predictor.generate("the quick", length=0)


# Evaluating


def test_evaluation_recomputes_perplexity_and_accuracy(fitted, tmp_path):
    lines = ["The quick brown fox jumps over the lazy dog .", "A cat sees a bird ."]
    path = tmp_path / "held_out.txt"
    path.write_text("\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
    log_probabilities, top1_hits = [], []
    for line in lines:
        ids = fitted.context_ids(line)
        logits = fitted.logits(np.array([ids], "int32"))[0, :-1].numpy().astype("float64")
        log_softmax = logits - logits.max(-1, keepdims=True)
        log_softmax -= np.log(np.exp(log_softmax).sum(-1, keepdims=True))
        targets = ids[1:]
        log_probabilities += [log_softmax[t, target] for t, target in enumerate(targets)]
        top1_hits += [int(np.argmax(logits[t]) == target) for t, target in enumerate(targets)]
    metrics = evaluate_next_word(fitted.predictor, str(path))
    assert metrics["lines"] == 2 and metrics["words"] == 10 + 6
    assert metrics["perplexity"] == pytest.approx(math.exp(-np.mean(log_probabilities)), abs=0.006)
    assert metrics["top1_accuracy"] == pytest.approx(np.mean(top1_hits), abs=1e-4)
    assert 0 <= metrics["top1_accuracy"] <= metrics["top5_accuracy"] <= 1


def test_scoring_counts_only_the_words_asked_for(fitted):
    import tensorflow as tf

    from apptk.applications.next_word.evaluation import score_lines

    lines = ["The quick brown fox jumps over the lazy dog .", "A cat sees a bird ."]
    counted = [[index % 2 == 0 for index in range(len(line.split()))] for line in lines]
    log_probabilities = []
    for line, keep in zip(lines, counted, strict=True):
        ids = fitted.context_ids(line)
        logits = fitted.logits(np.array([ids], "int32"))[0, :-1].numpy().astype("float64")
        log_softmax = logits - logits.max(-1, keepdims=True)
        log_softmax -= np.log(np.exp(log_softmax).sum(-1, keepdims=True))
        log_probabilities += [log_softmax[t, target] for t, target in enumerate(ids[1:]) if keep[t]]
    metrics = score_lines(fitted.predictor, lines, counted=tf.ragged.constant(counted))
    assert metrics["words"] == 5 + 3 == len(log_probabilities)
    assert metrics["perplexity"] == pytest.approx(math.exp(-np.mean(log_probabilities)), abs=0.006)


def test_evaluation_of_a_missing_file_is_a_data_error(lstm, tmp_path):
    with pytest.raises(DataError, match="not found"):
        evaluate_next_word(lstm.predictor, str(tmp_path / "missing.txt"))


# Exporting and loading

SERVING_SCRIPT = """
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401 - registers the tokenizer ops
results = {}
for path in sys.argv[2:]:
    serve = tf.saved_model.load(path).signatures["serving_default"]
    outputs = serve(texts=tf.constant(json.loads(sys.argv[1])))
    results[path] = {
        "words": [[w.decode() for w in row] for row in outputs["words"].numpy()],
        "probabilities": outputs["probabilities"].numpy().tolist(),
    }
assert not [name for name in sys.modules if name.startswith("apptk")]
print(json.dumps(results))
"""
SERVING_TEXTS = ["the quick brown", "A lazy dog chases the", "🦊"]


@pytest.fixture(scope="module")
def exports(lstm, transformer, tmp_path_factory) -> dict[str, tuple[Fitted, str]]:
    base = tmp_path_factory.mktemp("serving")
    return {
        fitted.cell: (fitted, export_next_word(fitted.predictor, str(base / fitted.cell / "1")))
        for fitted in (lstm, transformer)
    }


def test_exported_savedmodel_serves_the_same_predictions_without_apptk(exports):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    fitted, path = exports["lstm"]
    completed = subprocess.run(
        [sys.executable, "-c", SERVING_SCRIPT, json.dumps(SERVING_TEXTS), path],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    served = json.loads(completed.stdout.strip().splitlines()[-1])
    expected_words, expected_probabilities = raw_predictions(fitted.predictor, SERVING_TEXTS, 5)
    assert served[path]["words"] == expected_words
    np.testing.assert_allclose(served[path]["probabilities"], expected_probabilities, atol=1e-5)
    rounded = fitted.predictor(SERVING_TEXTS, top_k=5)
    assert [[item["word"] for item in row] for row in rounded] == expected_words
    np.testing.assert_allclose(
        [[item["probability"] for item in row] for row in rounded],
        served[path]["probabilities"],
        atol=ROUNDING,
    )


def test_a_loaded_export_predicts_and_generates_like_the_folder(exports):
    for fitted, path in exports.values():
        loaded = NextWordPredictor.load(path)
        texts = ["the quick brown", "a cat"]
        assert_same_predictions(
            raw_predictions(loaded, texts, 3), raw_predictions(fitted.predictor, texts, 3)
        )
        assert [len(row) for row in loaded(texts, top_k=3)] == [3, 3]
        length = CONTEXT_LENGTH + 4  # past the transformer's cache
        assert loaded.generate("the quick", length=length, temperature=0) == (
            fitted.predictor.generate("the quick", length=length, temperature=0)
        )
        assert loaded.generate("the quick", length=8, seed=4) == fitted.predictor.generate(
            "the quick", length=8, seed=4
        )
        assert loaded.has_known_words("the fox") and not loaded.has_known_words("🦊")


def test_export_refuses_to_overwrite_without_force(exports):
    fitted, path = exports["lstm"]
    with pytest.raises(OutputExistsError, match="--force"):
        export_next_word(fitted.predictor, path)


def test_export_needs_a_numeric_version_folder(lstm, tmp_path):
    for name in ("latest", "v1", "1a"):
        with pytest.raises(DataError, match="version number"):
            export_next_word(lstm.predictor, str(tmp_path / "next_word" / name))
    assert not (tmp_path / "next_word").exists() or not any((tmp_path / "next_word").iterdir())


def test_generated_text_gets_readable_casing(lstm):
    from apptk.applications.next_word.predictor import _restore_case

    assert _restore_case("said i would . then he left", "Tom") == "said I would . Then he left"
    assert _restore_case("the end", "It was fine.") == "The end"
    assert _restore_case("the end", "It was") == "the end"


def test_generated_punctuation_closes_the_prompts_last_word():
    from apptk.applications.next_word.predictor import _joined

    assert _joined("Once upon a time", ", I was") == "Once upon a time, I was"
    assert _joined("It ended", ". Then") == "It ended. Then"
    assert _joined("Tom", "is here.") == "Tom is here."
    assert _joined("", "hello") == "hello"
