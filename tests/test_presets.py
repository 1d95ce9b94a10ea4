"""Presets: models known by name, resolved and loaded the same way by every pipeline."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from apptk.applications.errors import ModelFileError
from apptk.applications.models.image_backbones import BACKBONES, DEFAULT_BACKBONE
from apptk.applications.run.presets import (
    DEFAULT_PRESETS,
    PRESETS,
    Preset,
    default_preset,
    resolve_model,
)
from apptk.cli.main import apptk


def test_every_shipped_preset_is_a_saved_model_in_the_package():
    shipped = [preset for preset in PRESETS.values() if preset.folder]
    assert {preset.name for preset in shipped} == {
        "en_es",
        "next_word",
        "fill_mask",
        "mobilenet_v2",
    }
    for preset in shipped:
        assert os.path.isfile(os.path.join(preset.path, "saved_model.pb")), preset.name
        assert preset.size_bytes() > 1_000_000


def test_image_presets_are_the_keras_backbones():
    image = {preset.name: preset for preset in PRESETS.values() if preset.kind == "image"}
    assert set(image) == set(BACKBONES)
    assert all(preset.backbone == name for name, preset in image.items())
    # Shipped backbones are presets with a folder; the others are downloads.
    for name, preset in image.items():
        assert (preset.path is not None) == (BACKBONES[name].shipped is not None), name
    assert DEFAULT_PRESETS["image"] == DEFAULT_BACKBONE == "mobilenet_v2"


def test_every_pipeline_with_a_default_gets_a_preset_of_its_own_kind():
    for kind, name in DEFAULT_PRESETS.items():
        assert default_preset(kind).kind == kind and default_preset(kind).name == name
    with pytest.raises(ModelFileError, match="no default text-classifier"):
        default_preset("text-classifier")


def test_resolve_model_names_paths_and_kinds(tmp_path):
    assert resolve_model(None, "translation") is PRESETS["en_es"]
    assert resolve_model("en_es", "translation") is PRESETS["en_es"]
    assert resolve_model("runs/not_there", "translation") == "runs/not_there"
    with pytest.raises(ModelFileError, match="en_es is a translation model, not a next-word"):
        resolve_model("en_es", "next-word")
    # A folder of that name in the working directory wins over the preset.
    (tmp_path / "en_es").mkdir()
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert resolve_model("en_es", "translation") == "en_es"
    finally:
        os.chdir(old)


def test_preset_size_counts_its_files(tmp_path, monkeypatch):
    folder = tmp_path / "savedmodels" / "demo" / "1"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"x" * 300)
    (folder / "variables" / "v.data").write_bytes(b"y" * 700)
    monkeypatch.setattr(
        "apptk.applications.run.presets.SHIPPED_MODELS", str(tmp_path / "savedmodels")
    )
    preset = Preset("demo", "translation", "a demo", "none", folder="demo/1")
    assert preset.size_bytes() == 1000
    assert (
        Preset("dl", "image", "a download", "none", backbone="mobilenet_v3_small").size_bytes()
        is None
    )


def test_models_command_lists_every_preset_with_its_default_mark():
    result = CliRunner().invoke(apptk, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["name"] for row in rows] == list(PRESETS)
    defaults = {row["name"] for row in rows if row["default"]}
    assert defaults == set(DEFAULT_PRESETS.values())
    assert all(row["licence"] and row["description"] for row in rows)
    text = CliRunner().invoke(apptk, ["models"]).output
    assert "* en_es" in text and "  mobilenet_v3_small" in text


def test_a_preset_of_another_kind_is_a_one_line_error():
    result = CliRunner().invoke(apptk, ["next-word", "--model", "en_es", "The quick"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: en_es is a translation model, not a next-word model; `apptk models` lists them."
    )


def test_translator_loads_by_preset_name_like_the_default():
    from apptk.applications.translation import Translator

    by_name = Translator.load("en_es")(["I like cats."], beam_size=1)
    by_default = Translator.load()(["I like cats."], beam_size=1)
    assert by_name == by_default


def test_importing_the_api_and_the_cli_leaves_tensorflow_unloaded():
    """Lazy exports: `apptk models` and `apptk --help` start without TensorFlow."""
    script = (
        "import sys\n"
        "import apptk.applications, apptk.cli.main\n"
        "from apptk.applications import PRESETS\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules, len(PRESETS))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False", str(len(PRESETS))]
