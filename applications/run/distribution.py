"""Choosing a `tf.distribute` strategy for `fit`, and which worker writes the files.

`--strategy` names:
    auto          mirrored over the GPUs when several are visible, else TensorFlow's default
                  (one device, no distribution).
    one-device    the first GPU, else the CPU.
    mirrored      synchronous data parallelism over this machine's GPUs (or CPUs).
    multi-worker  synchronous data parallelism over the machines listed in `TF_CONFIG`.
"""

from __future__ import annotations  # TensorFlow is imported when a strategy is needed

import json
import os
from typing import TYPE_CHECKING

from apptk.applications.errors import DataError
from apptk.applications.run.cluster_connection import DEFAULT_TIMEOUT_SECONDS, wait_for_peers

if TYPE_CHECKING:
    import tensorflow as tf

STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker")


def strategy_for(
    name: str = "auto", cluster_timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> tf.distribute.Strategy:
    """The strategy called `name`; create it before any other TensorFlow work (multi-worker
    strategies connect to the cluster when they are created, waiting at most
    `cluster_timeout` seconds for the other tasks)."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise DataError(f"--strategy must be one of {', '.join(STRATEGIES)}; got {name!r}.")
    if name == "multi-worker":
        return _multi_worker_strategy(cluster_timeout)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto" and len(gpus) <= 1:
        return tf.distribute.get_strategy()  # the default: what Keras uses without a scope
    if name == "mirrored" or name == "auto":
        # Without GPUs, the logical CPU devices (one unless the process configured more).
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")


def _multi_worker_strategy(timeout: float) -> tf.distribute.Strategy:
    import tensorflow as tf

    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", ""))
    except json.JSONDecodeError as error:
        raise DataError(
            "--strategy multi-worker reads the cluster from TF_CONFIG, which is not set or "
            "not JSON; see README 'Training on several GPUs or machines'."
        ) from error
    if not isinstance(cluster, dict) or "cluster" not in cluster or "task" not in cluster:
        raise DataError(
            "TF_CONFIG must hold 'cluster' and 'task'; see README 'Training on several GPUs or machines'."
        )
    wait_for_peers(cluster, timeout)
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether this process writes checkpoints and models: always, except on the workers of
    a multi-worker cluster other than the chief (task `chief`, or `worker` 0 without one)."""
    if strategy is None or not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    if "chief" in resolver.cluster_spec().as_dict():
        return task_type == "chief"
    return task_type == "worker" and task_id == 0


def worker_folder(folder: str, strategy: tf.distribute.Strategy | None) -> str:
    """Where this process writes: `folder` on the chief, a private scratch folder beside it
    on the other workers (so two processes never write the same file)."""
    if is_chief(strategy):
        return folder
    resolver = strategy.cluster_resolver
    name = f".{os.path.basename(os.path.abspath(folder))}.{resolver.task_type}-{resolver.task_id}"
    return os.path.join(os.path.dirname(os.path.abspath(folder)), name)
