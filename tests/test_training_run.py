"""The training-run skeleton every `fit_*` shares: resume, configuration, strategy; and the
configurations' derived sizes, the same from Python and from the command line."""

import dataclasses

import pytest
import tensorflow as tf
from click.testing import CliRunner

import apptk.applications.fill_mask as fill_mask_package
import apptk.applications.image as image_package
import apptk.applications.next_word as next_word_package
import apptk.applications.translation as translation_package
from apptk.applications.fill_mask import FillMaskConfig
from apptk.applications.image import ImageConfig
from apptk.applications.next_word import NextWordConfig
from apptk.applications.run import model_folder
from apptk.applications.run.training_run import TrainingRun
from apptk.applications.translation import TranslatorConfig
from apptk.cli.main import apptk


def test_a_fresh_run_keeps_the_given_configuration(tmp_path):
    config = NextWordConfig(units=32, seed=3)
    run = TrainingRun(str(tmp_path / "model"), config)
    assert run.config is config
    assert run.folder == run.chief_folder == str(tmp_path / "model")
    assert run.path("vocabulary.txt") == str(tmp_path / "model" / "vocabulary.txt")
    assert not (tmp_path / "model").exists(), "nothing is written before prepare_folder"


def test_resume_continues_with_the_saved_configuration_and_names_what_it_ignores(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    model_folder.write_config(NextWordConfig(units=16, num_layers=1), str(folder))
    with pytest.warns(UserWarning, match="ignoring") as caught:
        run = TrainingRun(str(folder), NextWordConfig(units=64, dropout=0.1), resume=True)
    assert run.config.units == 16 and run.config.num_layers == 1 and run.config.dropout == 0.3
    message = str(caught[0].message)
    assert "units=64" in message and "dropout=0.1" in message
    assert "num_layers" not in message, "a value left at its default was not asked for"


def test_resume_with_the_defaults_or_the_same_values_warns_nothing(tmp_path, recwarn):
    folder = tmp_path / "model"
    folder.mkdir()
    model_folder.write_config(NextWordConfig(units=16), str(folder))
    TrainingRun(str(folder), NextWordConfig(), resume=True)
    TrainingRun(str(folder), NextWordConfig(units=16), resume=True)
    assert not [w for w in recwarn if "resume" in str(w.message)]


def test_resume_of_a_folder_without_a_run_says_it_starts_anew(tmp_path):
    config = NextWordConfig()
    with pytest.warns(UserWarning, match="holds no run to resume; starting a new one"):
        run = TrainingRun(str(tmp_path / "empty"), config, resume=True)
    assert run.config is config


def test_a_strategy_is_accepted_by_name_or_as_an_object(tmp_path):
    default = tf.distribute.get_strategy()
    assert TrainingRun(str(tmp_path), NextWordConfig(), strategy=default).strategy is default
    by_name = TrainingRun(str(tmp_path), NextWordConfig(), strategy="one-device").strategy
    assert isinstance(by_name, tf.distribute.OneDeviceStrategy)


@pytest.mark.parametrize(
    "config, heads, intermediate",
    [
        (TranslatorConfig(), 4, 1024),
        (TranslatorConfig(hidden_dim=512), 8, 2048),
        (TranslatorConfig(hidden_dim=32), 1, 128),
        (TranslatorConfig(hidden_dim=512, num_heads=2, intermediate_dim=100), 2, 100),
        (FillMaskConfig(), 3, 768),
        (FillMaskConfig(hidden_dim=256), 4, 1024),
        (NextWordConfig(units=128), 2, 512),
    ],
)
def test_derived_sizes(config, heads, intermediate):
    assert (config.num_heads, config.intermediate_dim) == (heads, intermediate)


def test_sizes_follow_their_width_and_arch():
    assert NextWordConfig(units=128).embedding_dim == 128
    assert NextWordConfig(units=128, embedding_dim=64).num_heads == 1
    assert ImageConfig().image_size == 224 and ImageConfig(arch="cnn").image_size == 160
    assert ImageConfig(arch="cnn", image_size=96).image_size == 96


def _config_from_cli(monkeypatch, package, function, arguments):
    """The configuration `apptk fit ...` hands the Python API."""
    seen = {}

    def fake_fit(*_, config, **__):
        seen["config"] = config
        return {"epochs": 0}

    monkeypatch.setattr(package, function, fake_fit)
    result = CliRunner().invoke(apptk, ["fit", *arguments, "--out", "unused"])
    assert result.exit_code == 0, result.output
    return seen["config"]


def test_the_command_line_builds_the_configuration_python_builds(monkeypatch):
    translate = _config_from_cli(
        monkeypatch, translation_package, "fit_translator", ["translate", "--hidden-dim", "512"]
    )
    assert translate == TranslatorConfig(hidden_dim=512, epochs=30)
    next_word = _config_from_cli(
        monkeypatch, next_word_package, "fit_next_word", ["next-word", "c.txt", "--units", "128"]
    )
    assert next_word == NextWordConfig(units=128)
    fill = _config_from_cli(
        monkeypatch,
        fill_mask_package,
        "fit_fill_mask",
        ["fill-mask", "c.txt", "--hidden-dim", "256"],
    )
    assert fill == FillMaskConfig(hidden_dim=256)
    image = _config_from_cli(
        monkeypatch, image_package, "fit_image", ["image", "photos", "--arch", "cnn"]
    )
    assert image == ImageConfig(arch="cnn")
    assert dataclasses.asdict(image)["image_size"] == 160


def test_resume_takes_the_given_training_length_even_at_its_default(tmp_path):
    """`--epochs 20` on resume means 20 even though 20 is the default: never silently ignored."""
    folder = tmp_path / "model"
    folder.mkdir()
    model_folder.write_config(NextWordConfig(units=16, epochs=1, patience=5), str(folder))
    resumed = TrainingRun(str(folder), NextWordConfig(), resume=True).config
    defaults = NextWordConfig()
    assert (resumed.epochs, resumed.patience) == (defaults.epochs, defaults.patience)
    assert resumed.units == 16, "the model's shape stays the saved one"
