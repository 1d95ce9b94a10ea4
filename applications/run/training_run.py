"""One training run, the skeleton every pipeline's `fit_*` follows.

    run = TrainingRun(out, config, force=force, resume=resume, strategy=strategy)
    ...read and check the data (a bad file fails before anything is written)...
    run.prepare_folder()
    ...learn or reuse the vocabulary in run.folder...
    run.write_config()
    model = run.build(lambda: build_and_compile(run.config))
    summary = run.fit(model, train, validation)

The strategy comes first because a multi-worker strategy connects to its cluster when it is
created, before any other TensorFlow work. On `--resume` the configuration saved in the folder
wins; sizes given otherwise are reported as ignored, never silently dropped.
"""

import dataclasses
import os
import warnings
from collections.abc import Callable

import keras
import tensorflow as tf

from apptk.applications.run import distribution, model_folder, training


def resumed_config(folder: str, config, resume: bool):
    """The configuration to train with: the one saved in `folder` on `resume`, else `config`.

    Values of `config` that differ from both the defaults and the saved run (so someone asked
    for them) are named in a warning, since the saved run keeps its own.
    """
    if not resume:
        return config
    if not os.path.exists(os.path.join(folder, model_folder.CONFIG_FILE)):
        warnings.warn(
            f"--resume: {folder} holds no run to resume; starting a new one.", stacklevel=3
        )
        return config
    saved = model_folder.read_config(folder, type(config))
    defaults = type(config)()
    ignored = [
        f"{field.name}={getattr(config, field.name)!r}"
        for field in dataclasses.fields(config)
        if getattr(config, field.name) != getattr(defaults, field.name)
        and getattr(config, field.name) != getattr(saved, field.name)
    ]
    if ignored:
        warnings.warn(
            f"--resume continues the run saved in {folder} with its own configuration; "
            f"ignoring {', '.join(ignored)}.",
            stacklevel=3,
        )
    return saved


class TrainingRun:
    """The folder a `fit` writes, the configuration it trains with and its strategy.

    Args:
        out: the model folder (on a cluster: the chief's; see `distribution.worker_folder`).
        config: the pipeline's configuration dataclass (it has `seed`, `epochs`, `patience`).
        force: replace a finished model in `out`.
        resume: continue the run in `out` from its last finished epoch.
        strategy: a `tf.distribute` strategy or its `--strategy` name.
    """

    def __init__(self, out: str, config, *, force=False, resume=False, strategy="auto"):
        if not isinstance(strategy, tf.distribute.Strategy):
            strategy = distribution.strategy_for(strategy)
        self.strategy = strategy
        self.chief_folder = out
        self.folder = distribution.worker_folder(out, strategy)
        self.force = force
        self.resume = resume
        self.config = resumed_config(self.folder, config, resume)
        keras.utils.set_random_seed(self.config.seed)

    def path(self, name: str) -> str:
        """A file of this process's model folder."""
        return os.path.join(self.folder, name)

    def prepare_folder(self) -> None:
        model_folder.prepare_output_folder(self.folder, force=self.force, resume=self.resume)

    def write_config(self, config=None) -> None:
        """Saves the configuration (replacing it with `config` when given) as `config.json`."""
        if config is not None:
            self.config = config
        model_folder.write_config(self.config, self.folder)

    def build(self, make_model: Callable[[], keras.Model]) -> keras.Model:
        """`make_model()` under the strategy's scope: build and compile there."""
        with self.strategy.scope():
            return make_model()

    def fit(
        self,
        model: keras.Model,
        train: tf.data.Dataset,
        validation: tf.data.Dataset,
        epochs: int | None = None,
        sub_folder: str | None = None,
    ) -> dict:
        """Trains with the shared callbacks and keeps the best epoch (`training.fit_and_save`).

        Args:
            model: built and compiled by `build`.
            train: training batches.
            validation: validation batches.
            epochs: most epochs (default: the configuration's).
            sub_folder: a phase of the run written in its own sub-folder (image fine-tuning).
        """
        folder, chief_folder = self.folder, self.chief_folder
        if sub_folder:
            folder = os.path.join(folder, sub_folder)
            chief_folder = os.path.join(chief_folder, sub_folder)
        return training.fit_and_save(
            model,
            train,
            validation,
            folder,
            epochs=epochs or self.config.epochs,
            patience=self.config.patience,
            strategy=self.strategy,
            chief_folder=chief_folder,
        )
