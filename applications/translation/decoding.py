"""Greedy and beam-search decoding over a decoder's key/value cache.

The model must offer `initial_cache(encoder_output, max_length)` and `decode_step(token_ids,
index, self_caches, cross_caches, source_mask)`, as `TransformerTranslator` does. Both
functions are graph-friendly: call them inside a `tf.function` for speed.
"""

import tensorflow as tf

from apptk.applications.text.wordpiece import END_ID, PAD_ID, START_ID


def greedy_decode(model, encoder_output, source_mask, max_length: int):
    """Picks the most likely token at every step until `[END]` or `max_length`.

    Returns:
        `(token_ids (batch, max_length) int32 padded with 0, mean log-probability (batch,))`.
    """
    batch = tf.shape(encoder_output)[0]
    self_caches, cross_caches = model.initial_cache(encoder_output, max_length)
    tokens = tf.fill([batch, 1], START_ID)
    output = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])
    total_log_probability = tf.zeros([batch])
    lengths = tf.zeros([batch])
    finished = tf.zeros([batch], tf.bool)
    steps = tf.constant(0)
    for index in tf.range(max_length):
        logits, self_caches = model.decode_step(
            tokens, index, self_caches, cross_caches, source_mask
        )
        log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32))
        next_tokens = tf.argmax(log_probabilities, axis=-1, output_type=tf.int32)
        best = tf.reduce_max(log_probabilities, axis=-1)
        total_log_probability += tf.where(finished, 0.0, best)
        lengths += tf.where(finished, 0.0, 1.0)
        next_tokens = tf.where(finished, PAD_ID, next_tokens)
        output = output.write(index, next_tokens)
        finished = finished | tf.equal(next_tokens, END_ID)
        tokens = next_tokens[:, None]
        steps = index + 1
        if tf.reduce_all(finished):
            break
    token_ids = tf.transpose(output.stack())  # (batch, steps)
    token_ids = tf.pad(token_ids, [[0, 0], [0, max_length - steps]])
    return token_ids, total_log_probability / tf.maximum(lengths, 1.0)


def _repeat_beams(tensor, beam_size: int, axis: int = 0):
    return tf.repeat(tensor, beam_size, axis=axis)


def _length_penalty(lengths, alpha: float):
    # Wu et al. (2016), Google's NMT: ((5 + length) / 6) ** alpha.
    return tf.pow((5.0 + lengths) / 6.0, alpha)


def _no_alive_beam_can_win(scores, lengths, finished, alpha: float, max_length: int):
    """Whether, in every row, the best finished hypothesis beats any unfinished one's future.

    Log-probabilities only fall as a hypothesis grows, so an unfinished one can at best reach
    `score / penalty(longest length)`; once the best finished normalised score is above that
    in every row, more steps cannot change the answer.
    """
    finished_normalised = tf.where(finished, scores / _length_penalty(lengths, alpha), -1e9)
    best_finished = tf.reduce_max(finished_normalised, axis=-1)
    longest = tf.cast(max_length, tf.float32)
    alive_bound = tf.where(finished, -1e9, scores / _length_penalty(longest, alpha))
    return tf.reduce_all(best_finished >= tf.reduce_max(alive_bound, axis=-1))


def beam_search_decode(
    model, encoder_output, source_mask, max_length: int, beam_size: int = 4, alpha: float = 0.6
):
    """Keeps the `beam_size` most likely partial translations at every step.

    Finished hypotheses stay in the beam with their score; at the end the hypothesis with
    the best length-normalised log-probability wins (GNMT length penalty with `alpha`).

    Returns:
        `(token_ids (batch, max_length) int32 padded with 0, mean log-probability (batch,))`,
        the score measured as `greedy_decode` does so the two are comparable.
    """
    batch = tf.shape(encoder_output)[0]
    flat = batch * beam_size
    encoder_output = _repeat_beams(encoder_output, beam_size)
    source_mask = _repeat_beams(source_mask, beam_size)
    self_caches, cross_caches = model.initial_cache(encoder_output, max_length)
    vocabulary_size = model.target_vocabulary_size

    sequences = tf.zeros([batch, beam_size, max_length], tf.int32)
    # Only the first beam is live at the start, so the first top-k picks distinct tokens.
    scores = tf.tile(tf.concat([[0.0], tf.fill([beam_size - 1], -1e9)], 0)[None, :], [batch, 1])
    finished = tf.zeros([batch, beam_size], tf.bool)
    lengths = tf.zeros([batch, beam_size])
    tokens = tf.fill([flat, 1], START_ID)
    finished_token_scores = tf.one_hot(PAD_ID, vocabulary_size, on_value=0.0, off_value=-1e9)
    for index in tf.range(max_length):
        logits, self_caches = model.decode_step(
            tokens, index, self_caches, cross_caches, source_mask
        )
        log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32))
        log_probabilities = tf.reshape(log_probabilities, [batch, beam_size, vocabulary_size])
        # A finished hypothesis can only be extended by padding, at no cost.
        log_probabilities = tf.where(
            finished[:, :, None], finished_token_scores[None, None, :], log_probabilities
        )
        candidates = tf.reshape(scores[:, :, None] + log_probabilities, [batch, -1])
        scores, flat_indices = tf.math.top_k(candidates, k=beam_size)
        beam_indices = flat_indices // vocabulary_size
        next_tokens = flat_indices % vocabulary_size

        sequences = tf.gather(sequences, beam_indices, batch_dims=1)
        finished = tf.gather(finished, beam_indices, batch_dims=1)
        lengths = tf.gather(lengths, beam_indices, batch_dims=1)
        lengths += tf.where(finished, 0.0, 1.0)
        position = tf.one_hot(index, max_length, dtype=tf.int32)
        sequences += next_tokens[:, :, None] * position[None, None, :]
        finished = finished | tf.equal(next_tokens, END_ID)

        cache_rows = tf.reshape(beam_indices + tf.range(batch)[:, None] * beam_size, [-1])
        self_caches = tf.gather(self_caches, cache_rows, axis=1)
        tokens = tf.reshape(next_tokens, [flat, 1])
        if tf.reduce_all(finished) or _no_alive_beam_can_win(
            scores, lengths, finished, alpha, max_length
        ):
            break
    normalised = scores / _length_penalty(lengths, alpha)
    best = tf.argmax(normalised, axis=-1, output_type=tf.int32)
    best_sequences = tf.gather(sequences, best, batch_dims=1)
    mean_log_probability = scores / tf.maximum(lengths, 1.0)
    return best_sequences, tf.gather(mean_log_probability, best, batch_dims=1)
