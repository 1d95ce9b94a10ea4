"""Fill-mask: sentences with `[MASK]` in, the likeliest fillers with probabilities out.

Example:

>>> from apptk.applications.fill_mask import FillMasker
>>> masker = FillMasker.load()  # the shipped default model
>>> masker(["I would like to [MASK] a book."], top_k=3)
[[[{'token': 'read', 'probability': 0.41}, {'token': 'buy', ...}, ...]]]
>>> masker.fill("I would like to [MASK] a book.")
'i would like to read a book.'
"""

import dataclasses
import json
import os
import re

import tensorflow as tf

from apptk.applications.arguments import TOP_K, checked_int
from apptk.applications.errors import DataError, ModelFileError
from apptk.applications.fill_mask.spec import (
    KIND,
    MASK_TOKEN,
    VOCABULARY_FILE,
    FillMaskConfig,
    build_masked_language_model,
)
from apptk.applications.run import model_folder
from apptk.applications.run.export import assign_exported_weights, load_saved_model
from apptk.applications.run.loading import load_module
from apptk.applications.text.checks import checked_texts
from apptk.applications.text.wordpiece import (
    MASK_ID,
    RESERVED_TOKENS,
    WordPieceTokenizer,
    read_vocabulary,
    sentence_ids,
)

STRINGS = tf.TensorSpec([None], tf.string, name="texts")
EMPTY_HINT = "write a sentence with [MASK] in it"
_MASK_PATTERN = r"(?i)\[mask\]"  # for TensorFlow's RE2
_MASK_REGEX = re.compile(r"\[mask\]", re.IGNORECASE)


class FillMaskModule(tf.Module):
    """The fill-mask graph: tokenize around `[MASK]`, run the masked LM, rank the fillers.

    Args:
        model: a built `MaskedLanguageModel`.
        vocabulary: the WordPiece tokens (reserved tokens first).
    """

    def __init__(self, model, vocabulary: list[str], config: dict):
        super().__init__(name="fill_mask")
        self.model = model
        self.tokenizer = WordPieceTokenizer(vocabulary, case_fold=True, name="tokenizer")
        self.max_length = model.encoder.max_length
        self.max_length_variable = tf.Variable(self.max_length, trainable=False, name="max_length")
        # Kept in the export so its encoder can be rebuilt for fine-tuning.
        self.vocabulary = tf.Variable(vocabulary, trainable=False, name="vocabulary")
        self.config_json = tf.Variable(json.dumps(config), trainable=False, name="config_json")

    def _pieces_and_masks(self, texts):
        """WordPiece ids with `[MASK]` ids where the texts say "[MASK]" (any case)."""
        texts = tf.strings.regex_replace(texts, _MASK_PATTERN, MASK_TOKEN)
        pieces = tf.strings.split(texts, MASK_TOKEN)
        piece_ids = self.tokenizer.tokenize(pieces.flat_values)
        # Every piece but the last of its text is followed by a mask.
        with_masks = tf.concat([piece_ids, tf.fill([piece_ids.nrows(), 1], MASK_ID)], axis=1)
        return pieces.with_flat_values(with_masks).merge_dims(1, 2)[:, :-1]

    def _token_ids(self, texts):
        """`[START] tokens [END]` as ragged ids, cut to the model's length."""
        return sentence_ids(self._pieces_and_masks(texts), self.max_length)

    @tf.function(input_signature=[STRINGS])
    def token_counts(self, texts):
        """How many tokens each text is, with the sentence markers, before any cut."""
        ids = self._pieces_and_masks(texts)
        return {"token_counts": tf.cast(ids.row_lengths(), tf.int32) + 2}

    @tf.function(input_signature=[STRINGS])
    def token_ids(self, texts):
        """The ids the model reads `[batch, time]`, 0-padded."""
        return {"token_ids": self._token_ids(texts).to_tensor()}

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int32, name="token_ids"),
            tf.TensorSpec([None, None], tf.int32, name="mask_positions"),
        ]
    )
    def log_probabilities(self, token_ids, mask_positions):
        """Log-probabilities `[batch, predictions, vocabulary]` of the tokens at the positions."""
        logits = self.model({"token_ids": token_ids, "mask_positions": mask_positions})
        return {"log_probabilities": tf.nn.log_softmax(tf.cast(logits, tf.float32))}

    @tf.function(input_signature=[STRINGS, tf.TensorSpec([], tf.int32, name="top_k")])
    def fill(self, texts, top_k):
        """The `top_k` fillers of each mask: `tokens` and `probabilities` `[batch, masks, k]`.

        Texts with fewer masks than the batch's most are padded with empty tokens and zero
        probabilities; `mask_counts` `[batch]` says how many are real.
        """
        ids = self._token_ids(texts)
        positions = tf.ragged.boolean_mask(
            tf.ragged.range(ids.row_lengths()), tf.equal(ids, MASK_ID)
        )
        mask_counts = tf.cast(positions.row_lengths(), tf.int32)
        logits = self.model({"token_ids": ids.to_tensor(), "mask_positions": positions.to_tensor()})
        reserved = tf.range(tf.shape(logits)[-1]) < len(RESERVED_TOKENS)
        probabilities = tf.nn.softmax(tf.where(reserved, -1e9, tf.cast(logits, tf.float32)))
        top_k = tf.clip_by_value(top_k, 1, tf.shape(probabilities)[-1] - len(RESERVED_TOKENS))
        top = tf.math.top_k(probabilities, k=top_k)
        real = tf.sequence_mask(mask_counts, tf.shape(positions.to_tensor())[1])[..., None]
        return {
            "tokens": tf.where(real, tf.gather(self.tokenizer.tokens, top.indices), ""),
            "probabilities": tf.where(real, top.values, 0.0),
            "mask_counts": mask_counts,
        }

    @tf.function(input_signature=[])
    def model_weights(self):
        """The model's weights in `model.weights` order, to rebuild it for fine-tuning."""
        return [tf.identity(weight.value) for weight in self.model.weights]

    @tf.function(input_signature=[STRINGS])
    def serve(self, texts):
        return self.fill(texts, tf.constant(5))


def module_from_folder(folder: str) -> FillMaskModule:
    """Rebuilds the fill-mask graph from a fitted model folder."""
    config = model_folder.read_config(folder, FillMaskConfig)
    vocabulary = read_vocabulary(os.path.join(folder, VOCABULARY_FILE))
    model = build_masked_language_model(config, len(vocabulary))
    model_folder.load_fitted_weights(model, folder)
    return FillMaskModule(model, vocabulary, dataclasses.asdict(config))


def module_from_export(path: str) -> FillMaskModule:
    """Rebuilds the fill-mask graph as Keras layers from an exported SavedModel's variables.

    The export keeps its configuration, vocabulary and a function that returns the model's
    weights in Keras' order, so the same model is built afresh and given those values: its
    encoder can then be fine-tuned like one from a fitted folder.
    """
    exported = load_saved_model(path, required_function="fill", kind=KIND)
    if not hasattr(exported, "config_json"):
        raise ModelFileError(f"{path} is a fill-mask SavedModel without its configuration.")
    config = json.loads(exported.config_json.numpy().decode("utf-8"))
    vocabulary = [token.decode("utf-8") for token in exported.vocabulary.numpy()]
    config = model_folder.config_from_dict(FillMaskConfig, config)
    model = build_masked_language_model(config, len(vocabulary))
    assign_exported_weights(model, exported.model_weights(), path)
    return FillMaskModule(model, vocabulary, dataclasses.asdict(config))


def insert_filler(text: str, filler: str) -> str:
    """Puts `filler` in place of the first `[MASK]`; a `##` piece joins the word before it."""
    if filler.startswith("##"):
        return re.sub(r"\s*" + _MASK_REGEX.pattern, lambda _: filler[2:], text, 1, re.IGNORECASE)
    return _MASK_REGEX.sub(lambda _: filler, text, count=1)


class FillMasker:
    """Fill-mask predictions over a fitted folder or an exported SavedModel."""

    def __init__(self, module):
        self.module = module

    @classmethod
    def load(cls, model: str | None = None) -> "FillMasker":
        """The default model when `model` is None, else a preset name (`apptk models`), a
        fitted model folder or an exported SavedModel."""
        return cls(load_module(model, KIND, module_from_folder, required_function="fill"))

    @staticmethod
    def _check_masks(text: str) -> str:
        if not _MASK_REGEX.search(text):
            raise DataError(
                f"No {MASK_TOKEN} in {text[:60]!r}; put [MASK] where a word is missing."
            )
        return text

    def _check_lengths(self, texts: list[str]) -> None:
        """A mask past the model's length would be cut off silently: say so instead."""
        limit = int(self.module.max_length_variable)
        counts = self.module.token_counts(tf.constant(texts))["token_counts"].numpy()
        for text, count in zip(texts, counts):
            if count > limit:
                raise DataError(
                    f"{text[:40]!r} is {int(count)} tokens long; the model reads at most "
                    f"{limit}. Shorten it."
                )

    def __call__(self, texts: list[str], top_k: int = 5) -> list[list[list[dict]]]:
        """For each text, for each `[MASK]`, the `top_k` fillers `[{"token", "probability"}]`."""
        texts = [self._check_masks(text) for text in checked_texts(texts, EMPTY_HINT)]
        top_k = checked_int(top_k, "top_k", TOP_K)
        self._check_lengths(texts)
        result = self.module.fill(tf.constant(texts), tf.constant(top_k))
        tokens = result["tokens"].numpy()
        probabilities = result["probabilities"].numpy()
        counts = result["mask_counts"].numpy()
        return [
            [
                [
                    {"token": token.decode("utf-8"), "probability": round(float(p), 4)}
                    for token, p in zip(tokens[row, mask], probabilities[row, mask])
                ]
                for mask in range(counts[row])
            ]
            for row in range(len(texts))
        ]

    def fill(self, text: str, masks: list[list[dict]] | None = None) -> str:
        """`text` with each `[MASK]` replaced by its likeliest filler.

        Args:
            text: a text with `[MASK]` in it.
            masks: this text's answer from `__call__`, when already computed.
        """
        for fillers in masks if masks is not None else self([text], top_k=1)[0]:
            text = insert_filler(text, fillers[0]["token"])
        return text
