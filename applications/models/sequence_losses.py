"""Losses and metrics for padded token sequences (padding id 0 is ignored)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="apptk")
class MaskedSequenceLoss(keras.losses.Loss):
    """Cross-entropy over token logits, averaged over non-padding tokens, with label smoothing.

    Label smoothing (Szegedy et al., 2016) spreads `label_smoothing` of the target probability
    uniformly over the vocabulary, as in the Transformer paper.

    Args:
        label_smoothing: probability mass moved away from the true token.
        name: loss name.
    """

    def __init__(self, label_smoothing: float = 0.0, name: str = "masked_sequence_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        log_probabilities = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        true_log_probability = ops.take_along_axis(
            log_probabilities, ops.expand_dims(y_true, -1), axis=-1
        )[..., 0]
        smooth = self.label_smoothing
        token_loss = -(1.0 - smooth) * true_log_probability
        if smooth:
            token_loss -= smooth * ops.mean(log_probabilities, axis=-1)
        mask = ops.cast(ops.not_equal(y_true, 0), "float32")
        # Per-position values whose mean over all positions (Keras' "sum_over_batch_size")
        # is the mean over real tokens. A scalar would skip Keras' division by the number of
        # replicas under tf.distribute, doubling gradients and the logged loss on two.
        positions = ops.cast(ops.prod(ops.shape(mask)), "float32")
        return token_loss * mask * (positions / ops.maximum(ops.sum(mask), 1.0))

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="apptk")
def masked_accuracy(y_true, y_pred):
    """Share of non-padding tokens whose most likely prediction is right."""
    y_true = ops.cast(y_true, "int32")
    correct = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true), "float32")
    mask = ops.cast(ops.not_equal(y_true, 0), "float32")
    return ops.sum(correct * mask) / ops.maximum(ops.sum(mask), 1.0)
