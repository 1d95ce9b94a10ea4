"""Grad-CAM: where in a photo a convolutional classifier found the evidence for a class.

Selvaraju et al. (2017), https://arxiv.org/abs/1610.02391: the last convolutional feature
map's channels are weighted by the mean gradient of the class score (the logit, before the
softmax) over each channel, summed, and passed through a ReLU, so only regions that raise the
score remain.
"""

import keras
import tensorflow as tf


def grad_cam(explainer: keras.Model, pixels: tf.Tensor, class_index: tf.Tensor) -> tf.Tensor:
    """The Grad-CAM heat map of one image for one class.

    Args:
        explainer: a model of pixels → `(feature_map, logits)`, as `image_models` builds.
        pixels: one image, `(size, size, 3)`, as the explainer takes it.
        class_index: the class whose evidence to locate.

    Returns:
        A `(height, width)` map over the feature grid, scaled so its maximum is 1 (all zeros
        when nothing in the image raises the class score).
    """
    with tf.GradientTape() as tape:
        feature_map, logits = explainer(pixels[None], training=False)
        score = tf.cast(logits, tf.float32)[0, class_index]
    gradients = tape.gradient(score, feature_map)  # (1, height, width, channels)
    channel_weights = tf.reduce_mean(tf.cast(gradients, tf.float32), axis=(1, 2))  # (1, c)
    weighted = tf.cast(feature_map, tf.float32) * channel_weights[:, None, None, :]
    heat_map = tf.nn.relu(tf.reduce_sum(weighted, axis=-1))[0]
    return heat_map / tf.maximum(tf.reduce_max(heat_map), 1e-12)
