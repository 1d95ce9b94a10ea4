"""Shared by the fill-mask and text-classifier tests: a made-up corpus and tiny fitted models.

Not a test module (pytest collects only `test_*.py`): the test files import from it. Each
fitted folder or export is made once per session and shared by every test file that asks.

In the corpus each noun has its own verb, preposition and place ("the cat sits on the mat"),
so a masked noun, verb or place is fully determined by the other words of its sentence; only
the optional ending ("today", "again", "now") is left to chance.
"""

import contextlib
import dataclasses
import random

import pytest

from apptk.applications.fill_mask import FillMaskConfig, fit_fill_mask

SUBJECTS = {
    "cat": ("sits", "on", "mat"),
    "dog": ("sleeps", "on", "rug"),
    "bird": ("sings", "in", "tree"),
    "fish": ("swims", "in", "pond"),
    "cow": ("eats", "in", "field"),
    "man": ("reads", "at", "desk"),
}
ENDINGS = ["", " today", " again", " now"]
# The classifier's labels: which kind of creature the sentence is about.
LABELS = {"cat": "pet", "dog": "pet", "bird": "wild", "fish": "wild", "cow": "farm", "man": "farm"}
ADJECTIVES = ["big", "small", "old", "young", "happy", "lazy", "red", "black"]


def sentence(noun: str, ending: str = "", adjective: str = "") -> str:
    verb, preposition, place = SUBJECTS[noun]
    subject = f"{adjective} {noun}" if adjective else noun
    return f"the {subject} {verb} {preposition} the {place}{ending} ."


def synthetic_lines(count: int = 300, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [sentence(rng.choice(list(SUBJECTS)), rng.choice(ENDINGS)) for _ in range(count)]


def labelled_lines(count: int, seed: int = 0) -> list[str]:
    """`text<TAB>label` lines; an adjective the encoder never saw makes the texts varied."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        noun = rng.choice(list(SUBJECTS))
        text = sentence(noun, rng.choice(ENDINGS), rng.choice(ADJECTIVES))
        lines.append(f"{text}\t{LABELS[noun]}")
    return lines


def write_lines(path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def tiny_config(**overrides) -> FillMaskConfig:
    """A masked LM of ~45k weights that learns the corpus in ~15 s on a busy CPU.

    Each epoch masks other tokens, with random ops that run in parallel (tf.data's map and
    tensorflow-text's map_fn), so two fits differ a little even with one seed; 6 epochs over
    800 lines leave a wide margin (every probe right in repeated runs, where 15 epochs over
    300 lines, as many steps, sometimes missed two).
    """
    settings = {
        "vocabulary_size": 300,
        "max_length": 16,
        "hidden_dim": 64,
        "num_heads": 4,
        "intermediate_dim": 128,
        "num_layers": 1,
        "dropout": 0.0,
        "batch_size": 32,
        "peak_learning_rate": 1e-2,
        "warmup_steps": 30,
        "epochs": 6,
        "patience": 6,
        "seed": 0,
    }
    settings.update(overrides)
    return FillMaskConfig(**settings)


TRAINING_LINES = 800
_CACHE: dict[str, object] = {}


def fitted_folder(tmp_path_factory) -> str:
    """A fill-mask folder fitted on the synthetic corpus, once per session."""
    if "folder" not in _CACHE:
        base = tmp_path_factory.mktemp("fill_mask")
        corpus = write_lines(base / "corpus.txt", synthetic_lines(TRAINING_LINES))
        folder = str(base / "model")
        fit_fill_mask(corpus, folder, tiny_config())
        _CACHE["folder"] = folder
    return _CACHE["folder"]


def exported_model(tmp_path_factory) -> str:
    """The fitted folder exported as a SavedModel in `.../fill_mask/1`, once per session."""
    if "export" not in _CACHE:
        from apptk.applications.fill_mask import FillMasker, export_fill_mask

        masker = FillMasker.load(fitted_folder(tmp_path_factory))
        out = tmp_path_factory.mktemp("fill_mask_serving") / "fill_mask" / "1"
        _CACHE["export"] = export_fill_mask(masker, str(out))
    return _CACHE["export"]


@dataclasses.dataclass
class FittedClassifier:
    folder: str
    # The classifier's encoder weights when `fit` began, by weight path within the encoder.
    initial_encoder_weights: dict


def encoder_weights(encoder) -> dict:
    """The encoder's weights by their path below the encoder, comparable across models."""
    return {weight.path.split("/", 1)[1]: weight.numpy() for weight in encoder.weights}


@contextlib.contextmanager
def recording_encoder_start():
    """Notes the classifier's encoder weights as `fit_and_save` begins, into the dict yielded."""
    from apptk.applications.run import training

    started = {}
    fit_and_save = training.fit_and_save

    def recording_fit_and_save(model, *args, **kwargs):
        started.update(encoder_weights(model.encoder))
        return fit_and_save(model, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training, "fit_and_save", recording_fit_and_save)
        yield started


def fit_classifier_recording_start(**kwargs) -> FittedClassifier:
    """`fit_text_classifier(**kwargs)`, noting the encoder's weights as training starts."""
    from apptk.applications.text_classifier import fit_text_classifier

    with recording_encoder_start() as started:
        fit_text_classifier(**kwargs)
    return FittedClassifier(kwargs["out"], started)


def classifier_data(tmp_path_factory) -> dict[str, str]:
    """Labelled train and test files, once per session."""
    if "data" not in _CACHE:
        base = tmp_path_factory.mktemp("labelled")
        _CACHE["data"] = {
            "train": write_lines(base / "train.tsv", ["text\tlabel", *labelled_lines(160)]),
            "test": write_lines(base / "test.tsv", labelled_lines(60, seed=1)),
        }
    return _CACHE["data"]


def fine_tuned_classifier(tmp_path_factory, from_scratch: bool = False) -> FittedClassifier:
    """A classifier on the fitted encoder (or on a fresh one of its size), once per session."""
    from apptk.applications.text_classifier import TextClassifierConfig

    key = "scratch" if from_scratch else "fine_tuned"
    if key not in _CACHE:
        out = str(tmp_path_factory.mktemp("classifier") / key)
        _CACHE[key] = fit_classifier_recording_start(
            data=classifier_data(tmp_path_factory)["train"],
            out=out,
            encoder=fitted_folder(tmp_path_factory),
            from_scratch=from_scratch,
            # From scratch only needs to show where it starts: one epoch is enough.
            config=TextClassifierConfig(
                epochs=1 if from_scratch else 3, batch_size=16, learning_rate=3e-3
            ),
        )
    return _CACHE[key]
