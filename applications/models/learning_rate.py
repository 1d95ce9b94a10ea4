"""The Transformer's warm-up then inverse-square-root learning-rate schedule."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="apptk")
class WarmupInverseSquareRoot(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak_learning_rate` over `warmup_steps`, then decay as 1/sqrt(step).

    The schedule of Vaswani et al. (2017), section 5.3, written with its peak explicit.

    Args:
        peak_learning_rate: the rate reached at the end of warm-up.
        warmup_steps: number of warm-up steps.
    """

    def __init__(self, peak_learning_rate: float = 1e-3, warmup_steps: int = 4000):
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        warmup = ops.cast(self.warmup_steps, "float32")
        scale = ops.minimum(step / warmup, ops.sqrt(warmup / step))
        return self.peak_learning_rate * scale

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_steps": self.warmup_steps}
