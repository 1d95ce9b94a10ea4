"""Fine-tuning a translator with new vocabularies: token embeddings carried over
(`vocabulary_transfer`, `fit translate --init-from MODEL --vocabulary-size N`)."""

import numpy as np
import pytest
import tensorflow as tf
from cli_checks import invoke
from conftest import TINY_TRANSLATOR, synthetic_pair_lines

from apptk.applications.run import model_folder
from apptk.applications.text.wordpiece import (
    RESERVED_TOKENS,
    UNK_ID,
    WordPieceTokenizer,
    read_vocabulary,
)
from apptk.applications.translation import TranslatorConfig, fit_translator
from apptk.applications.translation.spec import vocabulary_paths
from apptk.applications.translation.translator import module_from_folder
from apptk.applications.translation.vocabulary_transfer import old_pieces, transferred_rows

OLD_VOCABULARY = [*RESERVED_TOKENS, "a", "b", "h", "o", "s", "hos", "##p", "##i", "##t", "##al"]
OLD_VOCABULARY += ["##pit", "##a", "##l", "##s", "##o"]


@pytest.mark.parametrize("word", ["hospital", "hospitals", "has", "sos", "sob", "a", "("])
def test_a_new_word_is_spelled_with_the_pieces_wordpiece_would_use(word):
    index = {token: row for row, token in enumerate(OLD_VOCABULARY)}
    tokenizer = WordPieceTokenizer(OLD_VOCABULARY, case_fold=False)
    expected = tokenizer.tokenize(tf.constant([word])).flat_values.numpy().tolist()
    # WordPiece makes a word it cannot spell one [UNK]; old_pieces gives no pieces.
    assert old_pieces(word, index) == ([] if expected == [UNK_ID] else expected)


def test_a_continuation_piece_is_spelled_with_continuation_pieces():
    index = {token: row for row, token in enumerate(OLD_VOCABULARY)}
    assert old_pieces("##pital", index) == [index["##pit"], index["##al"]]
    assert old_pieces("##sol", index) == [index["##s"], index["##o"], index["##l"]]


def test_what_the_old_vocabulary_cannot_spell_gets_no_pieces():
    index = {token: row for row, token in enumerate(OLD_VOCABULARY)}
    assert old_pieces("(", index) == []
    assert old_pieces("hosz", index) == []


def test_rows_are_copied_composed_or_fresh():
    old_rows = np.arange(len(OLD_VOCABULARY) * 2, dtype=np.float32).reshape(-1, 2)
    new_vocabulary = [*RESERVED_TOKENS, "hospital", "(", "##al", "zzz"]
    fresh = np.full((len(new_vocabulary), 2), -7.0)
    rows, counts = transferred_rows(old_rows, OLD_VOCABULARY, new_vocabulary, fresh)
    old = {token: old_rows[row] for row, token in enumerate(OLD_VOCABULARY)}
    np.testing.assert_array_equal(rows[: len(RESERVED_TOKENS)], old_rows[: len(RESERVED_TOKENS)])
    np.testing.assert_allclose(rows[5], (old["hos"] + old["##pit"] + old["##al"]) / 3)
    np.testing.assert_array_equal(rows[6], fresh[6])
    np.testing.assert_array_equal(rows[7], old["##al"])
    np.testing.assert_array_equal(rows[8], fresh[8])
    assert counts == {"copied": len(RESERVED_TOKENS) + 1, "composed": 1, "fresh": 2}


@pytest.fixture(scope="module")
def new_words_file(tmp_path_factory):
    """The synthetic pairs plus sentences with words and characters the tiny model never saw."""
    extra = [
        f"The hospital ({place}) opens at {hour}.\tEl hospital ({lugar}) abre a las {hour}."
        for place, lugar in (("north", "norte"), ("south", "sur"), ("centre", "centro"))
        for hour in range(1, 13)
    ]
    path = tmp_path_factory.mktemp("pairs") / "new_words.txt"
    path.write_text("\n".join(synthetic_pair_lines() + extra * 4) + "\n", encoding="utf-8")
    return str(path)


def test_fine_tuning_with_new_vocabularies_carries_the_embeddings_over(
    tiny_translator_folder, new_words_file, tmp_path
):
    out = str(tmp_path / "tuned")
    config = TranslatorConfig(
        **{
            **TINY_TRANSLATOR,
            "source_vocabulary_size": 320,
            "target_vocabulary_size": 320,
            "epochs": 1,
            # Too small to move anything: the carried-over weights stay as they were.
            "peak_learning_rate": 1e-9,
        },
        init_from=tiny_translator_folder,
        new_vocabularies=True,
    )
    summary = fit_translator(new_words_file, out, config)
    initial, tuned = module_from_folder(tiny_translator_folder), module_from_folder(out)
    old_source, new_source = (
        read_vocabulary(vocabulary_paths(f)[0]) for f in (tiny_translator_folder, out)
    )
    assert "hospital" in new_source and "hospital" not in old_source
    assert "(" in new_source and "(" not in old_source
    assert sum(summary["embedding_rows"]["source_embedding"].values()) == len(new_source)

    old_rows = initial.model.source_embedding.token_embedding.embeddings.numpy()
    new_rows = tuned.model.source_embedding.token_embedding.embeddings.numpy()
    old_index = {token: row for row, token in enumerate(old_source)}
    for row, token in enumerate(new_source):
        if token in old_index:
            np.testing.assert_allclose(new_rows[row], old_rows[old_index[token]], atol=1e-6)
    spelled = old_pieces("hospital", old_index)
    assert len(spelled) > 1
    np.testing.assert_allclose(
        new_rows[new_source.index("hospital")], old_rows[spelled].mean(axis=0), atol=1e-6
    )
    saved = model_folder.read_config(out, TranslatorConfig)
    assert saved.new_vocabularies and saved.source_vocabulary_size == 320
    assert saved.hidden_dim == TINY_TRANSLATOR["hidden_dim"]
    encoder_weights = zip(
        initial.model.encoder_blocks[0].get_weights(), tuned.model.encoder_blocks[0].get_weights()
    )
    for before, after in encoder_weights:
        np.testing.assert_allclose(after, before, atol=1e-6)


def test_the_cli_learns_new_vocabularies_when_given_a_size_with_init_from(
    tiny_translator_folder, new_words_file, tmp_path
):
    out = str(tmp_path / "tuned")
    result = invoke(
        "fit", "translate", "--init-from", tiny_translator_folder, "--vocabulary-size", "320",
        "--data", new_words_file, "--epochs", "1", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert model_folder.read_config(out, TranslatorConfig).new_vocabularies
    assert "hospital" in read_vocabulary(vocabulary_paths(out)[0])
