"""Word-level language modelling on one token stream, the Penn Treebank way (Mikolov et al.,
2010; Zaremba et al., 2014): the file's own vocabulary, contiguous parallel streams for
truncated BPTT with the state carried across batches, and perplexity over the whole file.

Two held-out figures, which papers and apptk report differently:

- **stream perplexity** (the papers' figure): the file is one stream of words with `<eos>` at
  each line end; a recurrent model reads it from a zero state at the start of the file and
  carries its state to the end; every token after the first is predicted exactly once;
  `exp(total NLL / predicted tokens)`.
- **per-sentence perplexity** (apptk's `evaluate_next_word` figure): each line is scored on
  its own from a fresh state, its first word predicted from the start token (here `<eos>`,
  the token that precedes every line in the stream), every word of the line predicted, the
  line-end `<eos>` not. It has no context across lines, so it is higher.

Ids: `0` is padding (never a word, never a target: apptk's models mask it), the words are
`1 ... len(vocabulary)` in the order of `StreamVocabulary.words`.

Example:

>>> vocabulary = StreamVocabulary.from_file("ptb.train.txt")  # 10,000 words with <eos>
>>> train = read_stream("ptb.train.txt", vocabulary)           # int32 ids, <eos> at line ends
>>> inputs, targets = next(stream_batches(train, batch_size=20, bptt=20))  # each (20, 20)
"""

import collections
import contextlib
import dataclasses
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterator

import numpy as np

from apptk.applications.errors import DataError
from apptk.applications.run.atomic_files import (
    weights_bytes,
    write_bytes_atomically,
    write_json_atomically,
)

EOS = "<eos>"
PADDING_ID = 0
WEIGHTS_FILE = "weights.weights.h5"
OPTIMIZER_FILE = "optimizer.npz"
STATE_FILE = "state.json"


@dataclasses.dataclass(frozen=True)
class StreamVocabulary:
    """Every distinct word of a training file plus `<eos>`, most frequent first (ties by
    spelling), as ids `1 ... len(words)`; id 0 is padding.

    Args:
        words: the words in id order (`words[0]` has id 1).
    """

    words: tuple[str, ...]

    @classmethod
    def from_file(cls, path: str) -> "StreamVocabulary":
        """The vocabulary of `path`: its whitespace-separated words and `<eos>` (PTB: 10,000)."""
        counts = collections.Counter()
        for words in _read_lines(path):
            counts.update(words)
            counts[EOS] += 1
        return cls(tuple(sorted(counts, key=lambda word: (-counts[word], word))))

    @property
    def size(self) -> int:
        """Model outputs needed: the words plus the padding id."""
        return len(self.words) + 1

    @property
    def eos_id(self) -> int:
        return self.ids([EOS])[0]

    def ids(self, words: list[str], where: str = "the text") -> list[int]:
        """The ids of `words`; a word outside the vocabulary is a `DataError`, never `<unk>`."""
        index = self._index
        try:
            return [index[word] for word in words]
        except KeyError as error:
            raise DataError(
                f"{where} has the word {error.args[0]!r}, which is not in the training file's "
                "vocabulary; PTB-style files map rare words to <unk> beforehand."
            ) from None

    @property
    def _index(self) -> dict[str, int]:
        if "_index_cache" not in self.__dict__:
            object.__setattr__(
                self, "_index_cache", {word: i + 1 for i, word in enumerate(self.words)}
            )
        return self.__dict__["_index_cache"]


def _read_lines(path: str) -> Iterator[list[str]]:
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            yield line.split()


def read_stream(path: str, vocabulary: StreamVocabulary) -> np.ndarray:
    """The words of `path` as one int32 id stream, `<eos>` after every line (empty ones too)."""
    ids = []
    for number, words in enumerate(_read_lines(path), start=1):
        ids.extend(vocabulary.ids([*words, EOS], where=f"{path} line {number}"))
    return np.asarray(ids, np.int32)


def read_sentences(path: str, vocabulary: StreamVocabulary) -> list[np.ndarray]:
    """Each line of `path` as its word ids, without `<eos>` (for per-sentence scoring)."""
    return [
        np.asarray(vocabulary.ids(words, where=f"{path} line {number}"), np.int32)
        for number, words in enumerate(_read_lines(path), start=1)
    ]


def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cuts `ids` into `batch_size` contiguous streams, `(batch_size, len(ids) // batch_size)`:
    row `j` is the `j`-th slice of the stream; the tail that does not fill a row is dropped."""
    length = len(ids) // batch_size
    if length < 2:
        raise DataError(f"{len(ids)} tokens are too few for {batch_size} streams.")
    return np.asarray(ids[: batch_size * length]).reshape(batch_size, length)


def stream_batches(
    ids: np.ndarray, batch_size: int, bptt: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """`(inputs, targets)`, each `(batch_size, bptt)`, in order: batch `i` holds the `i`-th
    `bptt`-token chunk of every stream and the tokens that follow them (Zaremba et al.'s
    `ptb_producer`: `(length - 1) // bptt` batches, a short last chunk dropped)."""
    streams = batchify(ids, batch_size)
    for start in range(0, (streams.shape[1] - 1) // bptt * bptt, bptt):
        yield streams[:, start : start + bptt], streams[:, start + 1 : start + bptt + 1]


def count_batches(ids: np.ndarray, batch_size: int, bptt: int) -> int:
    """How many batches `stream_batches` yields."""
    return (len(ids) // batch_size - 1) // bptt


def stream_dataset(ids: np.ndarray, batch_size: int, bptt: int):
    """`stream_batches` as an in-order `tf.data.Dataset` (never shuffle it: the state flows
    from each batch to the next)."""
    import tensorflow as tf

    inputs, targets = zip(*stream_batches(ids, batch_size, bptt), strict=True)
    return tf.data.Dataset.from_tensor_slices((np.stack(inputs), np.stack(targets)))


def zero_states(model, batch_size: int) -> list | None:
    """Zero initial states of a recurrent model's layers (apptk's `RecurrentLanguageModel`:
    one list per `keras.layers.RNN` in `model.recurrent_layers`); None for a stateless model."""
    import keras

    layers = getattr(model, "recurrent_layers", None)
    if layers is None:
        return None
    states = []
    for layer in layers:
        sizes = layer.cell.state_size
        sizes = sizes if isinstance(sizes, list | tuple) else [sizes]
        states.append([keras.ops.zeros((batch_size, size)) for size in sizes])
    return states


def _token_log_probabilities(logits, targets):
    """`log p(target)` of each position, in float32."""
    import tensorflow as tf

    log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32))
    return tf.gather(log_probabilities, tf.cast(targets, tf.int32), batch_dims=2)


@dataclasses.dataclass
class Score:
    """A held-out score: total negative log-likelihood (nats) over `tokens` predictions."""

    nll: float
    tokens: int

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll / self.tokens)


def stream_score(model, ids: np.ndarray, chunk_length: int = 100) -> Score:
    """The papers' whole-stream score of a recurrent model with a `step(ids, states)` method.

    One stream (batch 1), zero state at the start of `ids`, state carried from chunk to chunk;
    predicts `ids[1:]` from `ids[:-1]`, so `len(ids) - 1` tokens, each counted once. The last
    chunk is padded with the padding id, which apptk's recurrent models skip (a masked step
    keeps the state), and its padded targets are not counted.
    """
    import tensorflow as tf

    @tf.function
    def chunk_nll(inputs, targets, states):
        logits, new_states = model.step(inputs, states, training=False)
        log_probabilities = _token_log_probabilities(logits, targets)
        counted = tf.cast(tf.not_equal(inputs, PADDING_ID), tf.float32)
        return -tf.reduce_sum(log_probabilities * counted), new_states

    inputs, targets = np.asarray(ids[:-1], np.int32), np.asarray(ids[1:], np.int32)
    padding = -len(inputs) % chunk_length
    inputs = np.pad(inputs, (0, padding)).reshape(-1, chunk_length)
    targets = np.pad(targets, (0, padding)).reshape(-1, chunk_length)
    states, nll = zero_states(model, 1), 0.0
    for chunk_inputs, chunk_targets in zip(inputs, targets, strict=True):
        chunk, states = chunk_nll(chunk_inputs[None], chunk_targets[None], states)
        nll += float(chunk)
    return Score(nll, len(ids) - 1)


def window_score(model, ids: np.ndarray, context_length: int, stride: int, batch_size=64) -> Score:
    """Whole-stream score of a stateless model (a Transformer) reading windows of at most
    `context_length` tokens.

    Windows start every `stride` tokens; the first window scores all its predictions, every
    later one only its last `stride`, so each of the `len(ids) - 1` tokens is counted once and
    every token after the first window is predicted from at least `context_length - stride`
    tokens before it (stride 1: always the full context).
    """
    import tensorflow as tf

    if not 0 < stride <= context_length:
        raise ValueError(f"stride must lie in [1, {context_length}], got {stride}.")

    @tf.function(reduce_retracing=True)
    def windows_nll(inputs, targets, counted):
        log_probabilities = _token_log_probabilities(model(inputs, training=False), targets)
        return -tf.reduce_sum(log_probabilities * counted)

    predictions = len(ids) - 1
    starts = list(range(0, max(predictions - context_length, 0) + stride, stride))
    starts = [
        start for start in starts if start == 0 or start + context_length - stride < predictions
    ]
    nll = 0.0
    for first in range(0, len(starts), batch_size):
        batch = starts[first : first + batch_size]
        inputs = np.zeros((len(batch), context_length), np.int32)
        targets = np.zeros_like(inputs)
        counted = np.zeros(inputs.shape, np.float32)
        for row, start in enumerate(batch):
            end = min(start + context_length, predictions)
            inputs[row, : end - start] = ids[start:end]
            targets[row, : end - start] = ids[start + 1 : end + 1]
            scored_from = 0 if start == 0 else context_length - stride
            counted[row, scored_from : end - start] = 1.0
        nll += float(windows_nll(inputs, targets, counted))
    return Score(nll, predictions)


def sentence_score(
    model,
    sentences: list[np.ndarray],
    start_id: int,
    context_length: int | None = None,
    stride: int = 8,
    batch_size: int = 64,
) -> Score:
    """apptk's per-sentence score: each sentence from a fresh state (a recurrent model's zero
    state, an empty Transformer context), its first word predicted from `start_id`, every word
    predicted once, no end-of-line token predicted (as `evaluate_next_word` counts).

    A stateless model reading at most `context_length` tokens scores a sentence longer than
    its context with `window_score` over `[start_id, *sentence]` (windows every `stride`
    tokens), so every word still counts once; apptk's pipeline would keep the last window only.
    """
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def batch_nll(inputs, targets):
        log_probabilities = _token_log_probabilities(model(inputs, training=False), targets)
        counted = tf.cast(tf.not_equal(targets, PADDING_ID), tf.float32)
        return -tf.reduce_sum(log_probabilities * counted)

    sentences = [s for s in sentences if len(s)]
    long = [s for s in sentences if context_length and len(s) > context_length]
    nll, tokens = 0.0, 0
    for sentence in long:
        score = window_score(model, np.concatenate([[start_id], sentence]), context_length, stride)
        nll, tokens = nll + score.nll, tokens + score.tokens
    order = sorted(
        (s for s in sentences if not context_length or len(s) <= context_length), key=len
    )
    for first in range(0, len(order), batch_size):
        batch = order[first : first + batch_size]
        # Widths in multiples of 16 (within the context) keep the number of traces small.
        width = -(-max(len(s) for s in batch) // 16) * 16
        width = min(width, context_length or width)
        inputs = np.zeros((len(batch), width), np.int32)
        targets = np.zeros_like(inputs)
        for row, sentence in enumerate(batch):
            inputs[row, 0] = start_id
            inputs[row, 1 : len(sentence)] = sentence[:-1]
            targets[row, : len(sentence)] = sentence
            tokens += len(sentence)
        nll += float(batch_nll(inputs, targets))
    return Score(nll, tokens)


@dataclasses.dataclass
class StreamTraining:
    """How a row trains on the stream: layout, optimizer, schedule, loss scaling.

    Args:
        batch_size: parallel streams.
        bptt: tokens per truncated-BPTT chunk.
        epochs: epochs in all.
        learning_rate: `epoch -> learning rate` (epochs count from 1).
        optimizer: `"sgd"` (plain SGD, Zaremba et al.) or `"adam"`/`"adamw"`.
        clip_norm: global gradient-norm clip.
        weight_decay: decoupled weight decay for `"adamw"`.
        sum_over_time: minimise the loss summed over the `bptt` steps and averaged over the
            batch, as Zaremba et al.'s code does (with SGD at learning rate 1 this is their
            step size); False: the mean token loss.
        carry_state: carry the recurrent state from each batch to the next within an epoch
            (reset at the start of each epoch); False for stateless models.
        average_weights: momentum of an exponential moving average of the weights (Keras'
            `use_ema`), which the held-out scores and the finished model use; None: none.
        max_steps: stop each epoch after this many batches (smoke runs); None: whole epoch.
        seed: seed of initialisation and dropout.
    """

    batch_size: int
    bptt: int
    epochs: int
    learning_rate: Callable[[int], float]
    optimizer: str = "sgd"
    clip_norm: float = 5.0
    weight_decay: float = 0.0
    sum_over_time: bool = True
    carry_state: bool = True
    average_weights: float | None = None
    max_steps: int | None = None
    seed: int = 0


def make_optimizer(training: StreamTraining):
    import keras

    common = {"global_clipnorm": training.clip_norm}
    if training.average_weights:
        common.update(use_ema=True, ema_momentum=training.average_weights)
    if training.optimizer == "sgd":
        return keras.optimizers.SGD(1.0, **common)
    if training.optimizer == "adam":
        return keras.optimizers.Adam(1e-3, **common)
    if training.optimizer == "adamw":
        return keras.optimizers.AdamW(1e-3, weight_decay=training.weight_decay, **common)
    raise ValueError(f"optimizer must be sgd, adam or adamw, got {training.optimizer!r}.")


def read_checkpoint(folder: str) -> dict | None:
    """The state of the last finished epoch in `folder` (`epoch`, `history`, ...) or None."""
    path = os.path.join(folder, STATE_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def _write_checkpoint(folder: str, model, optimizer, state: dict) -> None:
    """Weights, optimizer variables, then `state.json`, each atomically; the state file is
    written last, so it only ever names an epoch whose weights are complete."""
    import keras

    write_bytes_atomically(weights_bytes(model), os.path.join(folder, WEIGHTS_FILE))
    buffer = io.BytesIO()
    np.savez(buffer, *[keras.ops.convert_to_numpy(variable) for variable in optimizer.variables])
    write_bytes_atomically(buffer.getvalue(), os.path.join(folder, OPTIMIZER_FILE))
    write_json_atomically(state, os.path.join(folder, STATE_FILE))


def _restore_checkpoint(folder: str, model, optimizer) -> None:
    model.load_weights(os.path.join(folder, WEIGHTS_FILE))
    optimizer.build(model.trainable_variables)
    with np.load(os.path.join(folder, OPTIMIZER_FILE)) as saved:
        values = [saved[f"arr_{index}"] for index in range(len(saved.files))]
    for variable, value in zip(optimizer.variables, values, strict=True):
        variable.assign(value)


def fit_stream(
    model,
    train_ids: np.ndarray,
    training: StreamTraining,
    folder: str,
    *,
    validation: Callable[[], Score] | None = None,
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> dict:
    """Trains `model` on the in-order stream `train_ids`, one checkpoint per finished epoch.

    Each epoch walks `stream_batches(train_ids, batch_size, bptt)` in order; a recurrent model
    starts the epoch from zero states and carries them across batches (truncated BPTT: no
    gradient flows between batches). After each epoch the weights, the optimizer and
    `state.json` (epoch, learning rate, history, training seconds) are written to `folder`.
    With `resume`, training continues after the last finished epoch found there.

    Args:
        model: a Keras model; with `training.carry_state`, one with `step(ids, states)`.
        train_ids: the training stream.
        training: layout, optimizer and schedule.
        folder: checkpoint folder.
        validation: computes the validation score after each epoch (None: skip).
        resume: continue from `folder`'s last finished epoch; False starts over.
        log: where progress lines go.

    With `training.average_weights` the validation scores use the averaged weights, and the
    model holds them on return.

    Returns:
        The final state: `epoch`, `history` (one dict per epoch), `seconds`, `cut_short`.
    """
    import keras
    import tensorflow as tf

    optimizer = make_optimizer(training)
    state = read_checkpoint(folder) if resume else None
    if state is not None:
        _restore_checkpoint(folder, model, optimizer)
        log(f"resuming {folder} after epoch {state['epoch']}")
    else:
        state = {"epoch": 0, "history": [], "seconds": 0.0, "cut_short": False}
    scale = float(training.bptt) if training.sum_over_time else 1.0

    @tf.function
    def train_step(inputs, targets, states):
        with tf.GradientTape() as tape:
            if states is None:
                logits, new_states = model(inputs, training=True), None
            else:
                logits, new_states = model.step(inputs, states, training=True)
            loss = -tf.reduce_mean(_token_log_probabilities(logits, targets))
            objective = loss * scale
        gradients = tape.gradient(objective, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss, new_states

    batches = count_batches(train_ids, training.batch_size, training.bptt)
    steps = min(batches, training.max_steps or batches)
    while state["epoch"] < training.epochs:
        epoch = state["epoch"] + 1
        learning_rate = training.learning_rate(epoch)
        optimizer.learning_rate = learning_rate
        keras.utils.set_random_seed(training.seed + epoch)
        states = zero_states(model, training.batch_size) if training.carry_state else None
        started, total_loss = time.perf_counter(), 0.0
        for step, (inputs, targets) in enumerate(
            stream_batches(train_ids, training.batch_size, training.bptt), start=1
        ):
            loss, states = train_step(inputs, targets, states)
            total_loss += float(loss)
            if step % max(steps // 10, 1) == 0:
                seconds = time.perf_counter() - started
                log(
                    f"  epoch {epoch} step {step}/{steps}: train ppl "
                    f"{math.exp(total_loss / step):.1f}, "
                    f"{step * training.batch_size * training.bptt / seconds:.0f} tokens/s"
                )
            if step == steps:
                break
        seconds = time.perf_counter() - started
        record = {
            "epoch": epoch,
            "learning_rate": learning_rate,
            "train_perplexity": math.exp(total_loss / steps),
            "train_tokens": steps * training.batch_size * training.bptt,
            "train_seconds": seconds,
            "tokens_per_second": steps * training.batch_size * training.bptt / seconds,
        }
        if validation is not None:
            with _averaged_weights(model, optimizer, training):
                record["valid_perplexity"] = validation().perplexity
        state = {
            "epoch": epoch,
            "history": [*state["history"], record],
            "seconds": state["seconds"] + seconds,
            "cut_short": state["cut_short"] or steps < batches,
        }
        _write_checkpoint(folder, model, optimizer, state)
        log(
            f"epoch {epoch}: lr {learning_rate:.4g}, train ppl {record['train_perplexity']:.1f}"
            + (f", valid ppl {record['valid_perplexity']:.1f}" if validation else "")
            + f", {seconds:.0f} s, {record['tokens_per_second']:.0f} tokens/s"
        )
    if training.average_weights:
        optimizer.finalize_variable_values(model.trainable_variables)
    return state


@contextlib.contextmanager
def _averaged_weights(model, optimizer, training: StreamTraining):
    """Within the block the model holds the averaged weights (if any), then its own again."""
    if not training.average_weights:
        yield
        return
    own = [variable.numpy() for variable in model.trainable_variables]
    optimizer.finalize_variable_values(model.trainable_variables)
    try:
        yield
    finally:
        for variable, value in zip(model.trainable_variables, own, strict=True):
            variable.assign(value)
