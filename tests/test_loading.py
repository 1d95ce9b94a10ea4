"""What every pipeline's `load` refuses, through the one shared `run.loading.load_module`."""

import json

import pytest
import tensorflow as tf

from apptk.applications.errors import ModelFileError
from apptk.applications.fill_mask import FillMasker
from apptk.applications.image import ImageClassifier
from apptk.applications.next_word import NextWordPredictor
from apptk.applications.translation import Translator

PIPELINES = {
    "translation": Translator,
    "next-word": NextWordPredictor,
    "fill-mask": FillMasker,
    "image": ImageClassifier,
}
pipelines = pytest.mark.parametrize("kind, pipeline", PIPELINES.items(), ids=list(PIPELINES))


@pipelines
def test_a_missing_path_is_not_found(tmp_path, kind, pipeline):
    missing = str(tmp_path / "nothing")
    with pytest.raises(ModelFileError, match="Model not found") as error:
        pipeline.load(missing)
    assert str(error.value) == f"Model not found: {missing}"


@pipelines
def test_a_folder_without_a_model_is_neither_kind(tmp_path, kind, pipeline):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelFileError, match=f"is neither a fitted {kind} folder nor a {kind}"):
        pipeline.load(str(tmp_path))


@pipelines
def test_a_fitted_folder_of_another_kind_is_named(tmp_path, kind, pipeline):
    other = "image" if kind != "image" else "translation"
    (tmp_path / "config.json").write_text(json.dumps({"kind": other}))
    with pytest.raises(ModelFileError, match=f"holds a '{other}' model, not a '{kind}' model"):
        pipeline.load(str(tmp_path))


@pipelines
def test_a_savedmodel_of_another_kind_is_refused(tmp_path, kind, pipeline):
    module = tf.Module()
    module.double = tf.function(lambda x: 2 * x, input_signature=[tf.TensorSpec([], tf.float32)])
    tf.saved_model.save(module, str(tmp_path / "other" / "1"))
    with pytest.raises(ModelFileError, match=f"is a SavedModel, but not an apptk {kind} model"):
        pipeline.load(str(tmp_path / "other" / "1"))


@pipelines
def test_a_preset_of_another_kind_is_refused(kind, pipeline):
    other = "fill_mask" if kind != "fill-mask" else "en_es"
    with pytest.raises(ModelFileError, match=f"not a {kind} model; `apptk models` lists them"):
        pipeline.load(other)
