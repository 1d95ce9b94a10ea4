"""English→Spanish translation: raw strings in, translations out.

Example:

>>> from apptk.applications.translation.translator import Translator
>>> translator = Translator.load()  # the shipped default model
>>> translator(["Hello, how are you?"])
[{'translation': 'Hola, ¿cómo estás?', 'score': -0.12}]
"""

import dataclasses
import json
import re
import warnings
from collections.abc import Callable

import tensorflow as tf

from apptk.applications.arguments import BATCH_SIZE, BEAM_SIZE, checked_int
from apptk.applications.errors import ModelFileError
from apptk.applications.run import model_folder
from apptk.applications.run.export import assign_exported_weights, load_saved_model
from apptk.applications.run.loading import load_module
from apptk.applications.text.checks import checked_texts
from apptk.applications.text.processing import capitalize_first_letter
from apptk.applications.text.wordpiece import END_ID, START_ID, WordPieceTokenizer, read_vocabulary
from apptk.applications.translation.decoding import beam_search_decode, greedy_decode
from apptk.applications.translation.placeholders import restore_placeholders
from apptk.applications.translation.spec import (
    KIND,
    TranslatorConfig,
    build_model,
    vocabulary_paths,
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")

# Sentences longer than this many word pieces are translated in pieces (clauses joined up to
# it). Chosen on the first 800 TICO-19 sentences, greedy: splitting at 32 rather than at the
# model's maximum raised BLEU/chrF from 4.6/26.1 to 5.4/30.8 for the shipped en_es (max 48)
# and from 8.4/34.0 to 8.7/36.3 for a model fine-tuned on sentences up to 64 pieces; at 24
# chrF rose a little more but BLEU fell. A small model translates short clauses better than a
# long sentence it rarely saw. Rechecked on all of TICO-19 with the en_es of 2026-12-06 (maximum
# 64): 32 gives 13.2/43.4, 48 13.6/42.4, 64 12.8/40.8 — chrF falls as pieces grow.
SPLIT_LENGTH = 32

STRINGS = tf.TensorSpec([None], tf.string, name="sentences")


class TranslatorModule(tf.Module):
    """The translation graph: tokenize, encode, decode with the cache, detokenize.

    This is what `export` writes as a SavedModel; every function takes raw strings.

    Args:
        model: a built `TransformerTranslator`.
        source_tokenizer: English `WordPieceTokenizer` (case-folding).
        target_tokenizer: Spanish `WordPieceTokenizer`.
        max_length: the longest token sequence the model was trained on.
        config: the `TranslatorConfig` as a dict, kept in the export with the vocabularies so
            an exported translator can be rebuilt and fine-tuned (`module_from_export`).
        beam_size: the beam of `serving_default`.
    """

    def __init__(
        self, model, source_tokenizer, target_tokenizer, max_length: int, config: dict, beam_size=4
    ):
        super().__init__(name="translator")
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.max_length = max_length
        self.beam_size = beam_size
        config_text = json.dumps(dict(config))
        # Plain Python attributes are not saved; these are, for the restored module.
        self.max_length_variable = tf.Variable(max_length, trainable=False, name="max_length")
        self.config_json = tf.Variable(config_text, trainable=False, name="config_json")
        self.source_vocabulary = tf.Variable(
            source_tokenizer.tokens, trainable=False, name="source_vocabulary"
        )
        self.target_vocabulary = tf.Variable(
            target_tokenizer.tokens, trainable=False, name="target_vocabulary"
        )

    @property
    def config(self) -> dict:
        """The `TranslatorConfig` the model was built with, as a dict."""
        return json.loads(self.config_json.numpy().decode("utf-8"))

    @tf.function(input_signature=[])
    def model_weights(self):
        """The model's weights in `model.weights` order, to rebuild it for fine-tuning."""
        # float32 even where the export stores a token table in float16.
        return [tf.cast(weight.value, tf.float32) for weight in self.model.weights]

    def _source_ids(self, sentences):
        ids = self.source_tokenizer.tokenize(sentences)[:, : self.max_length]
        ids = ids.to_tensor(default_value=0)
        return tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])

    def _answer(self, token_ids, scores):
        translations = capitalize_first_letter(self.target_tokenizer.detokenize(token_ids))
        return {"translations": translations, "scores": scores}

    @tf.function(input_signature=[STRINGS])
    def serve(self, sentences):
        """Beam search with the default beam: `{"translations", "scores"}`."""
        return self.beam_search(sentences, tf.constant(self.beam_size))

    @tf.function(input_signature=[STRINGS])
    def greedy(self, sentences):
        encoder_output, source_mask = self.model.encode(self._source_ids(sentences))
        return self._answer(
            *greedy_decode(self.model, encoder_output, source_mask, self.max_length)
        )

    @tf.function(input_signature=[STRINGS, tf.TensorSpec([], tf.int32, name="beam_size")])
    def beam_search(self, sentences, beam_size):
        encoder_output, source_mask = self.model.encode(self._source_ids(sentences))
        return self._answer(
            *beam_search_decode(self.model, encoder_output, source_mask, self.max_length, beam_size)
        )

    @tf.function(
        input_signature=[STRINGS, tf.TensorSpec([None, None], tf.int32, name="target_ids")]
    )
    def teacher_forced_logits(self, sentences, target_ids):
        """Runs the whole model on sentences and target prefixes: `{"logits": (b, t, vocab)}`.

        What the classic Keras example calls once per generated token; `bench/translate.py`
        uses it as the no-cache baseline.
        """
        encoder_output, source_mask = self.model.encode(self._source_ids(sentences))
        return {"logits": self.model.decode(target_ids, encoder_output, source_mask)}

    @tf.function(input_signature=[STRINGS])
    def token_counts(self, sentences):
        """Number of source tokens of each sentence, before truncation to `max_length`."""
        return {"token_counts": self.source_tokenizer.tokenize(sentences).row_lengths()}

    @tf.function(input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.string)])
    def cross_attention(self, sentence, translation):
        """Last decoder block's cross-attention, averaged over heads, with both token lists."""
        source_ids = self._source_ids(sentence[None])
        target_ids = self.target_tokenizer.tokenize(translation[None])[:, : self.max_length - 1]
        target_ids = target_ids.to_tensor()
        decoder_input = tf.concat([tf.fill([1, 1], START_ID), target_ids], axis=1)
        encoder_output, source_mask = self.model.encode(source_ids)
        _, attention = self.model.decode(
            decoder_input, encoder_output, source_mask, return_attention=True
        )
        # Row t is the attention used to produce token t (the [END] token last).
        produced = tf.concat([target_ids, tf.fill([1, 1], END_ID)], axis=1)
        return {
            "weights": tf.reduce_mean(attention[0], axis=0),  # (target, source)
            "source_tokens": tf.gather(self.source_tokenizer.tokens, source_ids[0]),
            "target_tokens": tf.gather(self.target_tokenizer.tokens, produced[0]),
        }


def module_from_folder(folder: str) -> TranslatorModule:
    """Rebuilds the translation graph from a fitted model folder (config, vocabularies, weights)."""
    config = model_folder.read_config(folder, TranslatorConfig)
    source_vocabulary, target_vocabulary = map(read_vocabulary, vocabulary_paths(folder))
    model = build_model(config, len(source_vocabulary), len(target_vocabulary))
    model_folder.load_fitted_weights(model, folder)
    return _module(model, config, source_vocabulary, target_vocabulary)


def _module(model, config: TranslatorConfig, source_vocabulary, target_vocabulary):
    return TranslatorModule(
        model,
        WordPieceTokenizer(source_vocabulary, case_fold=True, name="source_tokenizer"),
        WordPieceTokenizer(target_vocabulary, case_fold=False, name="target_tokenizer"),
        config.max_length,
        dataclasses.asdict(config),
    )


def module_from_export(path: str) -> TranslatorModule:
    """Rebuilds the translation graph as Keras layers from an exported SavedModel's
    configuration, vocabularies and weights, so it can be fine-tuned like a fitted folder."""
    exported = load_saved_model(path, required_function="beam_search", kind=KIND)
    if not hasattr(exported, "config_json"):
        raise ModelFileError(
            f"{path} was exported without its configuration and cannot be rebuilt; "
            "tools/fitted_folder_from_old_export.py makes a fitted folder of it."
        )
    config = model_folder.config_from_dict(
        TranslatorConfig, json.loads(exported.config_json.numpy().decode("utf-8"))
    )
    source_vocabulary, target_vocabulary = (
        [token.decode("utf-8") for token in vocabulary.numpy()]
        for vocabulary in (exported.source_vocabulary, exported.target_vocabulary)
    )
    model = build_model(config, len(source_vocabulary), len(target_vocabulary))
    assign_exported_weights(model, exported.model_weights(), path)
    return _module(model, config, source_vocabulary, target_vocabulary)


def _joined_to_fit(parts: list[str], token_counts, limit: int) -> list[str]:
    """Consecutive `parts` joined greedily while the sum of their tokens stays within `limit`
    (a piece's tokens are close to the sum of its parts'); a part over it stays alone."""
    joined, current, current_count = [], [], 0
    for part, count in zip(parts, token_counts(parts)):
        if current and current_count + count > limit:
            joined.append(" ".join(current))
            current, current_count = [], 0
        current.append(part)
        current_count += count
    if current:
        joined.append(" ".join(current))
    return joined


def _word_runs(text: str, count: int, limit: int) -> list[str]:
    """`text` cut into the fewest even runs of words whose share of `count` tokens fits
    `limit` (with a tenth to spare, since words differ in length)."""
    words = text.split()
    runs = max(2, min(len(words), -(-count // max(1, int(limit * 0.9)))))
    size = -(-len(words) // runs)
    return [" ".join(words[start : start + size]) for start in range(0, len(words), size)]


class Translator:
    """English→Spanish translation pipeline over a fitted folder or an exported SavedModel.

    Args:
        module: a `TranslatorModule`, or the object `tf.saved_model.load` returns for one.
        split_length: texts longer than this many word pieces are translated in pieces
            (sentences, then clauses joined up to it, then runs of words); None: `SPLIT_LENGTH`
            or the model's maximum length if that is shorter.
    """

    def __init__(self, module, split_length: int | None = None):
        self.module = module
        self.max_length = int(module.max_length_variable.numpy())
        if split_length is None:
            split_length = min(SPLIT_LENGTH, self.max_length)
        # At most the model's maximum: a longer piece would lose its end.
        self.split_length = checked_int(split_length, "split_length", (1, self.max_length))

    @classmethod
    def load(cls, model: str | None = None, split_length: int | None = None) -> "Translator":
        """The default model when `model` is None, else a preset name (`apptk models`), a
        fitted model folder or an exported SavedModel. Sentences longer than `split_length`
        word pieces (default: `SPLIT_LENGTH`, at most the model's maximum length) are
        translated clause by clause."""
        module = load_module(model, KIND, module_from_folder, required_function="beam_search")
        return cls(module, split_length)

    def _token_counts(self, texts: list[str]) -> list[int]:
        return [int(n) for n in self.module.token_counts(tf.constant(texts))["token_counts"]]

    def too_long(self, texts: list[str]) -> dict:
        """How many texts are translated in pieces because they exceed `split_length`
        (`split`: sentences, then clauses, then runs of words) and how many still hold a
        piece over the model's maximum length (`cut`: its end is lost)."""
        pieces, cut = self._pieces(list(texts))
        return {"split": sum(len(text_pieces) > 1 for text_pieces in pieces), "cut": len(cut)}

    def _pieces(self, texts: list[str]) -> tuple[list[list[str]], list[int]]:
        """Each text as one piece, or, when it is longer than `split_length`, split into
        sentences, a sentence still too long into clauses (after `,;:`), and a clause still too
        long into even runs of words; with the indices of texts whose pieces still exceed the
        model's maximum (their ends would be cut), which this leaves only for one-word giants."""
        # Every token holds at least one non-space character, so only texts with more
        # characters than the split length can be too long: count tokens for those alone.
        limit = self.split_length
        maybe_long = [i for i, t in enumerate(texts) if len(t.replace(" ", "")) > limit]
        counts = self._token_counts([texts[i] for i in maybe_long]) if maybe_long else []
        pieces = [[text] for text in texts]
        cut = []
        for index, count in zip(maybe_long, counts):
            if count > limit:
                pieces[index] = self._fitting_pieces(texts[index])
                if any(n > self.max_length for n in self._token_counts(pieces[index])):
                    cut.append(index)
        return pieces, cut

    def _fitting_pieces(self, text: str) -> list[str]:
        """`text` in consecutive pieces of at most `split_length` tokens: its sentences (each
        alone, as the model was trained), a sentence too long in runs of clauses joined up to
        the limit, a clause too long in even runs of words."""
        pieces = []
        for sentence, count in self._counted(_SENTENCE_END.split(text)):
            if count <= self.split_length:
                pieces.append(sentence)
                continue
            clauses = _joined_to_fit(
                _CLAUSE_END.split(sentence), self._token_counts, self.split_length
            )
            for clause, clause_count in self._counted(clauses):
                pieces += self._word_runs_that_fit(clause, clause_count)
        return pieces

    def _word_runs_that_fit(self, text: str, count: int) -> list[str]:
        """`text` as is if it fits `split_length`, else in even runs of words, each split
        again until it fits or is a single word."""
        if count <= self.split_length or len(text.split()) == 1:
            return [text]
        runs = []
        for run, run_count in self._counted(_word_runs(text, count, self.split_length)):
            runs += self._word_runs_that_fit(run, run_count)
        return runs

    def _counted(self, parts: list[str]) -> list[tuple[str, int]]:
        return list(zip(parts, self._token_counts(parts)))

    def __call__(
        self,
        texts: list[str],
        beam_size: int = 4,
        batch_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> list[dict]:
        """Translates each text; returns `[{"translation": str, "score": float}, ...]`.

        Texts longer than the model's maximum are translated sentence by sentence; format
        placeholders of the text (`%s`, `{0}`) are written back as they were where the
        tokenizer spaced them out; the score is the mean log-probability per token (closer to
        0 is more confident).

        Args:
            texts: English texts (a single string is accepted too).
            beam_size: 1 for greedy decoding, else the beam width.
            batch_size: sentences decoded together.
            on_batch: called with the number of sentences after each batch (progress bars).
        """
        texts = checked_texts(texts, "give an English sentence to translate")
        beam_size = checked_int(beam_size, "beam_size", BEAM_SIZE)
        batch_size = checked_int(batch_size, "batch_size", BATCH_SIZE)
        pieces, cut = self._pieces([" ".join(text.split()) for text in texts])
        if cut:
            warnings.warn(
                f"{len(cut)} of {len(texts)} texts hold a word longer than the model's "
                f"{self.max_length} tokens even alone; its end is cut off before translation.",
                stacklevel=2,
            )
        flat = [piece for text_pieces in pieces for piece in text_pieces]
        translations, scores = [], []
        for start in range(0, len(flat), batch_size):
            batch = tf.constant(flat[start : start + batch_size])
            if beam_size <= 1:
                result = self.module.greedy(batch)
            else:
                result = self.module.beam_search(batch, tf.constant(beam_size))
            translations += [t.decode("utf-8") for t in result["translations"].numpy()]
            scores += [float(s) for s in result["scores"].numpy()]
            if on_batch:
                on_batch(len(batch))
        answers, position = [], 0
        for text, text_pieces in zip(texts, pieces):
            count = len(text_pieces)
            translation = " ".join(translations[position : position + count])
            answers.append(
                {
                    "translation": restore_placeholders(text, translation),
                    "score": round(sum(scores[position : position + count]) / count, 4),
                }
            )
            position += count
        return answers

    def cross_attention(self, text: str, translation: str):
        """`(source_tokens, target_tokens, weights (target, source))` for an attention plot."""
        result = self.module.cross_attention(tf.constant(text), tf.constant(translation))
        source = [t.decode("utf-8") for t in result["source_tokens"].numpy()]
        target = [t.decode("utf-8") for t in result["target_tokens"].numpy()]
        return source, target, result["weights"].numpy()
