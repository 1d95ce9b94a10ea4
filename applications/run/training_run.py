"""One training run, the skeleton every pipeline's `fit_*` follows.

    with TrainingRun(out, config, force=force, resume=resume, strategy=strategy) as run:
        ...read and check the data (a bad file fails before anything is written)...
        run.prepare_folder()
        run.record_data([(data_path, weight)])
        ...learn or reuse the vocabulary in run.folder...
        run.write_config()
        model = run.build(lambda: build_and_compile(run.config))
        summary = run.fit(model, train, validation)

The strategy comes first because a multi-worker strategy connects to its cluster when it is
created, before any other TensorFlow work.

What happens to the folder:
- a new run writes `out`; if it fails before finishing an epoch, what it wrote is removed;
- `resume` continues the run saved in `out` with its saved configuration, except the training
  length (`epochs`, `fine_tune_epochs`, `patience`), which is the given one: the new total;
  other values that differ are named in a warning, and so are training data that differ from
  the ones recorded in `data.json`; a run with nothing left to train raises
  `RunFinishedError` before touching anything;
- `force` trains beside `out` (in `.NAME.forced`) and replaces `out` only when the new run
  finishes, so a failed run never costs the old model; an interrupted forced run that
  finished an epoch is kept there, and `force` with `resume` continues it.
"""

import dataclasses
import os
import warnings
from collections.abc import Callable
from typing import Self

import keras
import tensorflow as tf

from apptk.applications.errors import DataError, OutputExistsError, RunFinishedError
from apptk.applications.run import distribution, model_folder, training
from apptk.applications.run.atomic_files import make_folder
from apptk.applications.run.data_record import record_data
from apptk.applications.run.history import HISTORY_FILE, best_validation_loss, epochs_done
from apptk.applications.run.model_folder import forced_run_folder

LENGTH_FIELDS = ("epochs", "fine_tune_epochs", "patience")
MAIN_PHASE = ""


def _holds_run(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, model_folder.CONFIG_FILE))


def _finished(folder: str) -> bool:
    """Whether the run in `folder` wrote its model after its last recorded epoch. A run
    extended with `--resume --epochs N` and stopped after its last epoch, before the final
    weights were written (averaging, `keep_initial`), still holds its earlier end's weights:
    it is not finished, and resuming it writes them."""
    weights = os.path.join(folder, model_folder.WEIGHTS_FILE)
    return _written_since(weights, _modified_ns(os.path.join(folder, HISTORY_FILE)))


def _modified_ns(path: str) -> int | None:
    return os.stat(path).st_mtime_ns if os.path.exists(path) else None


def _written_since(path: str, time_ns: int | None) -> bool:
    """Whether `path` exists and was written at or after `time_ns` (None: any time)."""
    written = _modified_ns(path)
    return written is not None and (time_ns is None or written >= time_ns)


def training_phases(config) -> dict[str, str]:
    """`{sub-folder: the config field holding its epochs}` for each phase of a run: one
    phase in the model folder, unless the configuration says otherwise (image fine-tuning)."""
    if hasattr(config, "training_phases"):
        return config.training_phases()
    return {MAIN_PHASE: "epochs"}


def resumed_config(folder: str, config, resume: bool):
    """The configuration to train with: the one saved in `folder` on `resume`, else `config`.

    The training length (`LENGTH_FIELDS`) is always `config`'s: `--epochs` is the new total,
    its default included, as `--help` says. Other values of `config` that differ from both the
    defaults and the saved run were asked for, and are named in a warning, since the saved
    model keeps its own shape.
    """
    if not resume:
        return config
    if not _holds_run(folder):
        warnings.warn(f"--resume: {folder} holds no run to resume; starting a new one.")
        return config
    saved = model_folder.read_config(folder, type(config))
    defaults = type(config)()
    asked = {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(config)
        if getattr(config, field.name) != getattr(defaults, field.name)
        and getattr(config, field.name) != getattr(saved, field.name)
    }
    lengths = {name: getattr(config, name) for name in LENGTH_FIELDS if hasattr(config, name)}
    ignored = [f"{name}={value!r}" for name, value in asked.items() if name not in lengths]
    if ignored:
        warnings.warn(
            f"--resume continues the run saved in {folder} with its own configuration; "
            f"ignoring {', '.join(ignored)} (pass --force to start over with them)."
        )
    return dataclasses.replace(saved, **lengths)


class TrainingRun:
    """The folder a `fit` writes, the configuration it trains with and its strategy.

    Use it as a context manager: leaving the block normally publishes a `force` run; an
    error or Ctrl-C removes what a run wrote before finishing its first epoch.

    Args:
        out: the model folder (on a cluster: the chief's; see `distribution.worker_folder`).
        config: the pipeline's configuration dataclass (it has `seed`, `epochs`, `patience`).
        force: replace a model in `out` once the new run has finished.
        resume: continue the run in `out` (with `force`: the interrupted forced run).
        strategy: a `tf.distribute` strategy or its `--strategy` name.
    """

    def __init__(self, out: str, config, *, force=False, resume=False, strategy="auto"):
        if not isinstance(strategy, tf.distribute.Strategy):
            strategy = distribution.strategy_for(strategy)
        self.strategy = strategy
        self.destination = out
        self.force, self.resume = force, resume
        self.forced = force and (_holds_run(out) or resume)
        self.chief_folder = forced_run_folder(out) if self.forced else out
        self.folder = distribution.worker_folder(self.chief_folder, strategy)
        self._check_folder()
        self.resuming = resume and _holds_run(self.chief_folder)
        self._saved = (
            model_folder.read_config(self.chief_folder, type(config)) if self.resuming else None
        )
        # When the saved configuration was written: a run extended with --resume rewrites it.
        self._saved_ns = _modified_ns(os.path.join(self.chief_folder, model_folder.CONFIG_FILE))
        self.config = resumed_config(self.chief_folder, config, resume)
        self.phases = training_phases(self.config)
        if self.resuming and all(self.phase_done(sub_folder) for sub_folder in self.phases):
            raise RunFinishedError(self._finished_message())
        self._entries_before = None
        keras.utils.set_random_seed(self.config.seed)

    def _check_folder(self) -> None:
        out = self.destination
        if self.forced and self.resume and not _holds_run(self.chief_folder):
            raise DataError(
                f"--force --resume continues an interrupted --force run, and there is none "
                f"for {out}; pass --force alone to start over."
            )
        if self.force or self.resume or not _holds_run(out):
            return
        if _finished(out):
            raise OutputExistsError(
                f"{out} already holds a trained model; pass --force to replace it "
                "or --resume to continue its training."
            )
        raise OutputExistsError(
            f"{out} holds an interrupted run; pass --resume to continue it "
            "or --force to start over."
        )

    def _finished_message(self) -> str:
        trained = ", ".join(
            f"{epochs_done(os.path.join(self.chief_folder, sub))} {field.replace('_', ' ')}"
            for sub, field in self.phases.items()
        )
        return (
            f"Nothing to resume: the run in {self.destination} has finished ({trained}); "
            "pass a larger --epochs to train longer."
        )

    def phase_done(self, sub_folder: str = MAIN_PHASE) -> bool:
        """Whether a resumed phase has nothing left to train: it finished (its weights are
        written) and the epochs asked for are no more than it was set to or has trained."""
        if not self.resuming:
            return False
        folder = os.path.join(self.chief_folder, sub_folder)
        field = self.phases.get(sub_folder, "epochs")
        reached = epochs_done(folder)
        weights = os.path.join(folder, model_folder.WEIGHTS_FILE)
        if _written_since(weights, self._saved_ns):
            # It finished at the saved length (early stopping may have ended it sooner); an
            # extension stopped before its first epoch has a newer config than its weights.
            reached = max(getattr(self._saved, field), reached)
        return _finished(folder) and getattr(self.config, field) <= reached

    def __enter__(self) -> Self:
        return self

    def __exit__(self, error_type, error, traceback) -> bool:
        if not distribution.is_chief(self.strategy):
            return False
        if error_type is None:
            if self.forced:
                model_folder.publish_folder(self.chief_folder, self.destination, force=True)
            return False
        self._clean_up_after_failure()
        return False

    def _clean_up_after_failure(self) -> None:
        """Removes what this run wrote if it finished no epoch; keeps a resumable run."""
        if self._entries_before is None or self.resuming:
            return
        if epochs_done(self.folder) > 0:
            if self.forced:
                warnings.warn(
                    f"the --force run stopped; {self.destination} is unchanged and "
                    f"`--force --resume` continues the new run kept in {self.folder}."
                )
            return
        if not self._entries_before:
            model_folder.remove_folder(self.folder)
            return
        for entry in set(os.listdir(self.folder)) - self._entries_before:
            path = os.path.join(self.folder, entry)
            if os.path.isdir(path):
                model_folder.remove_folder(path)
            else:
                os.remove(path)

    def path(self, name: str) -> str:
        """A file of this process's model folder."""
        return os.path.join(self.folder, name)

    def prepare_folder(self) -> None:
        """Creates the folder (a forced run's own, started anew unless resumed)."""
        if self.forced and not self.resume:
            model_folder.remove_folder(self.chief_folder)
        existed = os.path.isdir(self.folder)
        self._entries_before = set(os.listdir(self.folder)) if existed else set()
        make_folder(self.folder)

    def record_data(self, sources: list[tuple[str | None, int]]) -> None:
        """Keeps what the run trains on, `[(path, weight)]`, in its folder (`data.json`);
        resuming on other data says so in a warning (`data_record`)."""
        record_data(self.folder, sources, self.resuming)

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
        """Trains with the shared callbacks and keeps the best epoch (`training.fit_and_save`),
        or the average of the last epochs where the configuration has an `average_last`, with
        a share of the initial weights where it has a `keep_initial`.

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
        if self.phase_done(sub_folder or MAIN_PHASE):
            return {
                "epochs": 0,
                "best_val_loss": best_validation_loss(folder),
                "seconds": 0.0,
                "parameters": model.count_params(),
            }
        return training.fit_and_save(
            model,
            train,
            validation,
            folder,
            epochs=epochs or self.config.epochs,
            patience=self.config.patience,
            strategy=self.strategy,
            chief_folder=chief_folder,
            average_last=getattr(self.config, "average_last", 0),
            keep_initial=getattr(self.config, "keep_initial", 0.0),
        )
