"""Nothing lost when a fit or an export fails: full disks, read-only places, Ctrl-C,
`--force`, `--resume` (issue 17, items 1-4, 6, 7, 11). Tiny next-word models on a made-up
corpus; a real 2 MB tmpfs (and a read-only one) where they can be mounted (root, as in CI)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_checks import assert_one_line_error, invoke
from next_word_fixtures import synthetic_lines, tiny_config, write_corpus

from apptk.applications.errors import OutputExistsError, OutputWriteError, RunFinishedError
from apptk.applications.next_word import NextWordPredictor, fit_next_word
from apptk.applications.run import atomic_files, training
from apptk.applications.run.history import read_history
from apptk.applications.run.training_run import forced_run_folder

APPTK = Path(sys.executable).parent / "apptk"


def snapshot(folder) -> dict:
    """Every file under `folder` with its bytes: what "unchanged" is checked against."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(Path(folder).rglob("*"))
        if path.is_file()
    }


def temporaries(folder) -> list[str]:
    return [str(path) for path in Path(folder).rglob("*.part")]


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "corpus.txt")


def mounted_tmpfs(mount_point: Path, options: str):
    """Mounts a tmpfs at `mount_point`; skips the test where mounting is not allowed."""
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    return mount_point


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs."""
    yield mounted_tmpfs(tmp_path / "disk", "size=2m")
    subprocess.run(["umount", "-l", str(tmp_path / "disk")], check=False)


@pytest.fixture
def read_only_disk(tmp_path):
    yield mounted_tmpfs(tmp_path / "read_only", "ro,size=1m")
    subprocess.run(["umount", "-l", str(tmp_path / "read_only")], check=False)


def fail_writes_under(monkeypatch, folder_name: str, after: int):
    """Makes the temporary files of `folder_name` fail with ENOSPC once `after` were made."""
    made = {"count": 0}
    real_mkstemp = atomic_files.tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        if os.path.basename(kwargs.get("dir", "")) == folder_name:
            made["count"] += 1
            if made["count"] > after:
                raise OSError(28, "No space left on device")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(atomic_files.tempfile, "mkstemp", mkstemp)


# 1. A full disk


def test_a_full_disk_keeps_the_last_good_backup_and_resume_continues(tmp_path, corpus, monkeypatch):
    out = tmp_path / "lm"
    fail_writes_under(monkeypatch, "backup", after=2)  # epoch 1's weights and epoch number
    with pytest.raises(OutputWriteError, match="no space left on device while writing .*backup"):
        fit_next_word(corpus, str(out), tiny_config("lstm", epochs=3))
    monkeypatch.undo()
    assert json.loads((out / "backup" / "training_metadata.json").read_text())["epoch"] == 1
    assert len(read_history(str(out))["loss"]) == 1
    assert not temporaries(out)
    fit_next_word(corpus, str(out), tiny_config("lstm", epochs=3), resume=True)
    assert len(read_history(str(out))["loss"]) == 3
    assert NextWordPredictor.load(str(out))(["the quick"], top_k=2)[0]


def test_fit_on_a_real_full_disk_is_one_line_and_the_backup_still_resumes(tmp_path, small_disk):
    corpus = write_corpus(tmp_path / "corpus.txt", synthetic_lines(3000))
    out = small_disk / "lm"
    arguments = ["next-word", corpus, "--units", "64", "--epochs", "4", "--vocabulary-size", "300"]
    result = subprocess.run(
        [str(APPTK), "fit", *arguments, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: no space left on device while writing ")
    epochs = len(read_history(str(out)).get("loss", []))
    assert 1 <= epochs < 4, "the 2 MB disk holds the first epoch's files, not all four"
    backup = json.loads((out / "backup" / "training_metadata.json").read_text())
    assert backup["epoch"] == epochs
    assert not temporaries(out)
    roomy = tmp_path / "lm"
    shutil.copytree(out, roomy)
    resumed = subprocess.run(
        [str(APPTK), "fit", *arguments, "--out", str(roomy), "--resume"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert len(read_history(str(roomy))["loss"]) == 4


# 2. --force replaces the old model only once the new one has finished


@pytest.fixture
def finished(tmp_path, corpus):
    out = tmp_path / "lm"
    fit_next_word(corpus, str(out), tiny_config("lstm", epochs=1))
    return out


def test_force_keeps_the_old_model_when_the_new_run_is_interrupted(finished, corpus, monkeypatch):
    before = snapshot(finished)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "fit_and_save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fit_next_word(corpus, str(finished), tiny_config("lstm", units=24), force=True)
    assert snapshot(finished) == before
    assert not os.path.exists(forced_run_folder(str(finished)))


def test_force_swaps_in_the_new_model_when_it_finishes(finished, corpus):
    fit_next_word(corpus, str(finished), tiny_config("lstm", units=24, epochs=1), force=True)
    assert json.loads((finished / "config.json").read_text())["units"] == 24
    assert len(read_history(str(finished))["loss"]) == 1, "the old history went with the old run"
    assert not os.path.exists(forced_run_folder(str(finished)))
    assert not os.path.exists(str(finished) + ".old")


def test_an_interrupted_forced_run_that_finished_an_epoch_is_continued_by_force_resume(
    finished, corpus, monkeypatch
):
    before = snapshot(finished)
    fail_writes_under(monkeypatch, "backup", after=2)
    with pytest.warns(UserWarning, match="--force --resume"), pytest.raises(OutputWriteError):
        fit_next_word(corpus, str(finished), tiny_config("lstm", units=24, epochs=2), force=True)
    monkeypatch.undo()
    assert snapshot(finished) == before
    forced = forced_run_folder(str(finished))
    assert len(read_history(forced)["loss"]) == 1
    fit_next_word(corpus, str(finished), tiny_config("lstm"), force=True, resume=True)
    assert json.loads((finished / "config.json").read_text())["units"] == 24
    assert len(read_history(str(finished))["loss"]) == 2
    assert not os.path.exists(forced)


def test_force_resume_without_an_interrupted_forced_run_is_an_error(finished, corpus):
    with pytest.raises(Exception, match="--force --resume continues an interrupted --force run"):
        fit_next_word(corpus, str(finished), tiny_config("lstm"), force=True, resume=True)


# 3. A run that fails before its first epoch leaves nothing behind


def test_a_run_failing_before_its_first_epoch_leaves_no_folder(tmp_path, corpus, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the backbone's weights are missing")

    monkeypatch.setattr(training, "fit_and_save", broken)
    with pytest.raises(RuntimeError):
        fit_next_word(corpus, str(tmp_path / "lm"), tiny_config("lstm"))
    assert not (tmp_path / "lm").exists()
    (tmp_path / "given").mkdir()
    (tmp_path / "given" / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError):
        fit_next_word(corpus, str(tmp_path / "given"), tiny_config("lstm"))
    assert os.listdir(tmp_path / "given") == ["notes.txt"], "only what the run wrote goes"


def test_fit_image_with_missing_backbone_weights_leaves_no_folder(tmp_path, monkeypatch):
    from image_fixtures import go_offline, make_image_folder

    go_offline(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    images = make_image_folder(tmp_path / "photos")
    out = tmp_path / "pets"
    result = invoke(
        "fit",
        "image",
        str(images),
        "--out",
        str(out),
        "--backbone",
        "mobilenet_v3_small",
        "--epochs",
        "1",
    )
    assert result.exit_code == 1
    assert not out.exists()


# 6, 7. --resume: --epochs is the new total; nothing to do touches nothing; nothing to resume


def test_resume_with_more_epochs_trains_up_to_the_new_total(finished, corpus):
    summary = fit_next_word(corpus, str(finished), tiny_config("lstm", epochs=3), resume=True)
    assert summary["epochs"] == 2
    assert len(read_history(str(finished))["loss"]) == 3
    assert json.loads((finished / "config.json").read_text())["epochs"] == 3


def test_resume_with_nothing_left_to_train_says_so_and_touches_nothing(finished, corpus):
    before = {path: os.stat(path).st_mtime_ns for path in finished.rglob("*")}
    with pytest.raises(RunFinishedError, match="has finished"):
        fit_next_word(corpus, str(finished), tiny_config("lstm", epochs=1), resume=True)
    result = invoke("fit", "next-word", corpus, "--out", str(finished), "--resume", "--epochs", "1")
    assert result.exit_code == 0
    assert "Nothing to resume" in result.stderr and "--epochs" in result.stderr
    assert {path: os.stat(path).st_mtime_ns for path in finished.rglob("*")} == before


def test_an_extended_run_stopped_before_its_final_weights_is_resumed_not_called_finished(
    finished, corpus
):
    weights = finished / "model.weights.h5"
    first_end = weights.read_bytes()
    fit_next_word(corpus, str(finished), tiny_config("lstm", epochs=2), resume=True)
    # As if stopped after epoch 2 was recorded, before the run wrote its final weights.
    weights.write_bytes(first_end)
    history_time = os.stat(finished / "history.csv").st_mtime_ns
    os.utime(weights, ns=(history_time - 10**9, history_time - 10**9))
    summary = fit_next_word(corpus, str(finished), tiny_config("lstm", epochs=2), resume=True)
    assert summary["epochs"] == 0 and len(read_history(str(finished))["loss"]) == 2
    assert weights.read_bytes() != first_end, "the second epoch's weights are written"
    with pytest.raises(RunFinishedError, match="has finished"):
        fit_next_word(corpus, str(finished), tiny_config("lstm", epochs=2), resume=True)


def test_an_extension_stopped_before_its_first_epoch_is_resumed_not_called_finished(
    finished, corpus, monkeypatch
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(training, "fit_and_save", interrupted)
        with pytest.raises(KeyboardInterrupt):
            fit_next_word(corpus, str(finished), tiny_config("lstm", epochs=2), resume=True)
    assert json.loads((finished / "config.json").read_text())["epochs"] == 2
    summary = fit_next_word(corpus, str(finished), tiny_config("lstm", epochs=2), resume=True)
    assert summary["epochs"] == 1 and len(read_history(str(finished))["loss"]) == 2


def test_resume_of_an_empty_folder_says_it_starts_a_new_run(tmp_path, corpus):
    result = invoke(
        "fit",
        "next-word",
        corpus,
        "--out",
        str(tmp_path / "lm"),
        "--resume",
        "--units",
        "8",
        "--epochs",
        "1",
        "--vocabulary-size",
        "50",
    )
    assert result.exit_code == 0, result.output
    assert "Warning: --resume: " in result.stderr and "starting a new one" in result.stderr


def test_an_interrupted_run_is_not_overwritten_without_resume_or_force(finished, corpus):
    os.remove(finished / "model.weights.h5")  # as a run stopped mid-way leaves it
    with pytest.raises(OutputExistsError, match="interrupted run; pass --resume"):
        fit_next_word(corpus, str(finished), tiny_config("lstm"))
    result = invoke("fit", "next-word", corpus, "--out", str(finished))
    assert_one_line_error(result, 1, "holds an interrupted run")


# 4, 11. Exports onto a full disk or a read-only place; fits onto a read-only place


def test_export_onto_a_full_disk_is_one_line_and_leaves_nothing(small_disk):
    out = small_disk / "models" / "en_es" / "1"
    result = invoke("export", "translate", "--out", str(out))  # the shipped 23 MB translator
    assert_one_line_error(result, 1, "no space left on device while writing", str(out))
    assert os.listdir(small_disk) == [], "not even the folders it made"


@pytest.mark.parametrize("command", ["export", "fit"])
def test_writing_to_a_read_only_place_is_one_line(
    read_only_disk, corpus, command, tiny_translator_folder
):
    if command == "export":
        result = invoke(
            "export",
            "translate",
            "--model",
            tiny_translator_folder,
            "--out",
            str(read_only_disk / "en_es" / "1"),
        )
    else:
        result = invoke(
            "fit",
            "next-word",
            corpus,
            "--out",
            str(read_only_disk / "lm"),
            "--units",
            "8",
            "--epochs",
            "1",
        )
    assert_one_line_error(result, 1, "read-only file system")


def test_on_the_command_line_resume_defaults_to_the_saved_length_and_obeys_a_given_one(
    tmp_path, corpus
):
    out = str(tmp_path / "lm")
    tiny = ["--units", "8", "--vocabulary-size", "50", "--layers", "1"]
    assert invoke("fit", "next-word", corpus, "--out", out, "--epochs", "1", *tiny).exit_code == 0
    plain = invoke("fit", "next-word", corpus, "--out", out, "--resume")
    assert plain.exit_code == 0 and "Nothing to resume" in plain.stderr
    default_total = next(p for p in fit_command_params() if p.name == "epochs").default
    given = invoke(
        "fit", "next-word", corpus, "--out", out, "--resume", "--epochs", str(default_total)
    )
    assert given.exit_code == 0, given.output
    assert "Nothing to resume" not in given.stderr, "--epochs equal to its default still counts"
    assert len(read_history(out)["loss"]) > 1


def fit_command_params():
    from apptk.cli.fit import fit

    return fit.commands["next-word"].params
