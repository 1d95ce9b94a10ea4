"""Next-word prediction and text generation: raw strings in, words and probabilities out.

Example:

>>> from apptk.applications.next_word import NextWordPredictor
>>> predictor = NextWordPredictor.load()  # the shipped default model
>>> predictor(["The quick brown"], top_k=3)
[[{'word': 'fox', 'probability': 0.41}, ...]]
>>> predictor.generate("I would like to", length=5, temperature=0.8, seed=1)
'I would like to go to the beach .'
"""

import os
import re

import tensorflow as tf

from apptk.applications.arguments import (
    LENGTH,
    SAMPLING_TOP_K,
    SEED,
    TEMPERATURE,
    TOP_K,
    TOP_P,
    checked_float,
    checked_int,
)
from apptk.applications.next_word.spec import (
    KIND,
    VOCABULARY_FILE,
    NextWordConfig,
    build_language_model,
)
from apptk.applications.run import model_folder
from apptk.applications.run.loading import load_module
from apptk.applications.text.checks import checked_text, checked_texts
from apptk.applications.text.processing import join_wordpieces
from apptk.applications.text.word_vocabulary import WordTokenizer
from apptk.applications.text.wordpiece import RESERVED_TOKENS, START_ID, UNK_ID, read_vocabulary

STRINGS = tf.TensorSpec([None], tf.string, name="texts")
SCALAR_INT = tf.TensorSpec([], tf.int32)
EMPTY_HINT = "give a few words to continue"


def _mask_reserved(logits):
    """Reserved tokens ([PAD], [UNK], [START], ...) are never suggested or sampled."""
    reserved = tf.range(tf.shape(logits)[-1]) < len(RESERVED_TOKENS)
    return tf.where(reserved, tf.constant(-1e9, logits.dtype), logits)


def _sample(logits, temperature, top_k, top_p, seed):
    """One token per row: greedy when `temperature` is 0, else from the top-k / top-p set."""
    logits = _mask_reserved(tf.cast(logits, tf.float32))
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
    scaled = logits / tf.maximum(temperature, 1e-6)
    vocabulary_size = tf.shape(scaled)[-1]
    k = tf.where(top_k > 0, tf.minimum(top_k, vocabulary_size), vocabulary_size)
    sorted_logits = tf.sort(scaled, axis=-1, direction="DESCENDING")
    kth = tf.gather(sorted_logits, k - 1, axis=-1)[:, None]
    # Nucleus: keep the smallest set of top tokens whose probability reaches top_p.
    cumulative = tf.cumsum(tf.nn.softmax(sorted_logits), axis=-1, exclusive=True)
    nucleus_size = tf.reduce_sum(tf.cast(cumulative < top_p, tf.int32), axis=-1)
    nucleus_floor = tf.gather(sorted_logits, tf.maximum(nucleus_size, 1) - 1, batch_dims=1)
    floor = tf.maximum(kth, nucleus_floor[:, None])
    filtered = tf.where(scaled >= floor, scaled, -1e9)
    sampled = tf.random.stateless_categorical(filtered, 1, seed, dtype=tf.int32)[:, 0]
    return tf.where(temperature > 0, sampled, greedy)


class NextWordModule(tf.Module):
    """The next-word graph: tokenize, run the language model, pick words.

    Args:
        model: a built `RecurrentLanguageModel` or `TransformerLanguageModel`.
        vocabulary: the word list (reserved tokens first).
        context_length: the longest context a Transformer reads (None: unlimited, recurrent).
    """

    def __init__(self, model, vocabulary: list[str], context_length: int | None):
        super().__init__(name="next_word")
        self.model = model
        self.tokenizer = WordTokenizer(vocabulary, name="tokenizer")
        self.context_length = context_length
        self.context_length_variable = tf.Variable(
            context_length or 0, trainable=False, name="context_length"
        )

    def _context(self, texts):
        """`[START]` + word ids, the last `context_length` kept, right-padded; and lengths."""
        ids = self.tokenizer.tokenize(texts)
        ids = tf.concat([tf.fill([ids.nrows(), 1], START_ID), ids], axis=1)
        if self.context_length:
            ids = ids[:, -self.context_length :]
        return ids.to_tensor(), ids.row_lengths()

    @tf.function(input_signature=[STRINGS, SCALAR_INT])
    def predict(self, texts, top_k):
        """Top-k next words with probabilities: `{"words": [b, k], "probabilities": [b, k]}`."""
        ids, lengths = self._context(texts)
        logits = tf.cast(self.model(ids), tf.float32)
        last = tf.gather(logits, tf.cast(lengths, tf.int32) - 1, batch_dims=1)
        probabilities = tf.nn.softmax(last)
        # At most every word: asking for more would list the masked reserved tokens.
        top_k = tf.minimum(top_k, tf.shape(probabilities)[-1] - len(RESERVED_TOKENS))
        top = tf.math.top_k(_mask_reserved(probabilities), k=top_k)
        return {
            "words": self.tokenizer.lookup(top.indices),
            "probabilities": tf.gather(probabilities, top.indices, batch_dims=1),
        }

    @tf.function(input_signature=[STRINGS])
    def serve(self, texts):
        return self.predict(texts, tf.constant(5))

    @tf.function(input_signature=[STRINGS])
    def score(self, texts):
        """Teacher-forced scores of each word given the words before it (from `[START]`).

        Returns `log_probabilities`, `top1` and `top5` hits, each `[batch, words]`, and a
        `mask` of the real (non-padding) positions.
        """
        ids, lengths = self._context(texts)
        log_probabilities = tf.nn.log_softmax(tf.cast(self.model(ids), tf.float32)[:, :-1])
        targets = ids[:, 1:]
        ranks = tf.reduce_sum(
            tf.cast(
                log_probabilities > tf.gather(log_probabilities, targets, batch_dims=2)[..., None],
                tf.int32,
            ),
            axis=-1,
        )
        return {
            "log_probabilities": tf.gather(log_probabilities, targets, batch_dims=2),
            "top1": ranks < 1,
            "top5": ranks < 5,
            "mask": tf.sequence_mask(lengths - 1, tf.shape(targets)[1]),
        }

    @tf.function(input_signature=[STRINGS])
    def known_word_counts(self, texts):
        """How many words of each text are in the vocabulary."""
        ids = self.tokenizer.tokenize(texts)
        return {"known_word_counts": tf.reduce_sum(tf.cast(ids != UNK_ID, tf.int32), axis=1)}

    @tf.function(
        input_signature=[
            tf.TensorSpec([], tf.string, name="text"),
            tf.TensorSpec([], tf.int32, name="length"),
            tf.TensorSpec([], tf.float32, name="temperature"),
            tf.TensorSpec([], tf.int32, name="top_k"),
            tf.TensorSpec([], tf.float32, name="top_p"),
            tf.TensorSpec([], tf.int32, name="seed"),
        ]
    )
    def generate(self, text, length, temperature, top_k, top_p, seed):
        """Continues `text` by `length` words, reusing recurrent state / attention cache.

        A Transformer predicts each word from the last `context_length` tokens, as `predict`
        does; once its cache is full it re-reads that window at every step.
        """
        ids, _ = self._context(text[None])
        logits, states = self.model.step(ids)
        window = ids
        generated = tf.TensorArray(tf.int32, size=length)
        for step in tf.range(length):
            token = _sample(logits[:, -1, :], temperature, top_k, top_p, tf.stack([seed, step]))
            generated = generated.write(step, token[0])
            if self.context_length:
                window = tf.concat([window, token[:, None]], axis=1)[:, -self.context_length :]
                logits, states = self._step_in_window(token[:, None], window, states)
            else:
                logits, states = self.model.step(token[:, None], states)
        words = self.tokenizer.lookup(generated.stack()[None])
        return {"words": words[0], "text": join_wordpieces(tf.RaggedTensor.from_tensor(words))[0]}

    def _step_in_window(self, token_ids, window, states):
        """A Transformer step through its cache or, once the cache is full, over `window`."""
        return tf.cond(
            states["index"] < self.context_length,
            lambda: self.model.step(token_ids, states),
            lambda: self.model.step(window),
        )


def module_from_folder(folder: str) -> NextWordModule:
    """Rebuilds the next-word graph from a fitted model folder."""
    config = model_folder.read_config(folder, NextWordConfig)
    vocabulary = read_vocabulary(os.path.join(folder, VOCABULARY_FILE))
    model = build_language_model(config, len(vocabulary))
    model_folder.load_fitted_weights(model, folder)
    return NextWordModule(model, vocabulary, config.context_length)


def _joined(prompt: str, continuation: str) -> str:
    """The prompt and its continuation, punctuation that closes a word attached to it."""
    if re.match(r"[.?!,;:)]", continuation):
        return f"{prompt}{continuation}"
    return f"{prompt} {continuation}".strip()


def _restore_case(continuation: str, prompt: str) -> str:
    """Readable casing for case-folded model output: "I", and capitals that open sentences."""
    continuation = re.sub(r"\bi\b", "I", continuation)
    opens_sentence = not prompt.strip() or prompt.rstrip()[-1] in ".!?"
    pieces = re.split(r"([.!?]\s+)", continuation)
    for index in range(0, len(pieces), 2):
        if (index > 0 or opens_sentence) and pieces[index]:
            pieces[index] = pieces[index][0].upper() + pieces[index][1:]
    return "".join(pieces)


class NextWordPredictor:
    """Next-word prediction and generation over a fitted folder or an exported SavedModel."""

    def __init__(self, module):
        self.module = module

    @classmethod
    def load(cls, model: str | None = None) -> "NextWordPredictor":
        """The default model when `model` is None, else a preset name (`apptk models`), a
        fitted model folder or an exported SavedModel."""
        return cls(load_module(model, KIND, module_from_folder, required_function="generate"))

    def has_known_words(self, text: str) -> bool:
        """Whether `text` holds any word the model can read (not only emoji or punctuation)."""
        texts = tf.constant([checked_text(text, EMPTY_HINT)])
        counts = self.module.known_word_counts(texts)["known_word_counts"]
        return int(counts[0]) > 0

    def __call__(self, texts: list[str], top_k: int = 5) -> list[list[dict]]:
        """For each text, the `top_k` likeliest next words: `[{"word", "probability"}, ...]`."""
        texts = checked_texts(texts, EMPTY_HINT)
        top_k = checked_int(top_k, "top_k", TOP_K)
        result = self.module.predict(tf.constant(texts), tf.constant(top_k))
        words = result["words"].numpy()
        probabilities = result["probabilities"].numpy()
        return [
            [
                {"word": word.decode("utf-8"), "probability": round(float(probability), 4)}
                for word, probability in zip(row_words, row_probabilities)
            ]
            for row_words, row_probabilities in zip(words, probabilities)
        ]

    def generate(
        self,
        text: str,
        length: int = 20,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int = 0,
    ) -> str:
        """Continues `text` by `length` sampled words (greedy when `temperature` is 0)."""
        checked_text(text, EMPTY_HINT)
        result = self.module.generate(
            tf.constant(text),
            tf.constant(checked_int(length, "length", LENGTH)),
            tf.constant(checked_float(temperature, "temperature", TEMPERATURE)),
            tf.constant(checked_int(top_k, "top_k", SAMPLING_TOP_K)),
            tf.constant(checked_float(top_p, "top_p", TOP_P)),
            tf.constant(checked_int(seed, "seed", SEED)),
        )
        continuation = _restore_case(result["text"].numpy().decode("utf-8"), text)
        return _joined(text.rstrip(), continuation)
