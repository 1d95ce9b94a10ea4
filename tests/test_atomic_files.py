"""Files written through a temporary name: a failed write keeps the old file and leaves no
temporary behind; permissions follow the umask; weights made in memory load back."""

import errno
import os

import keras
import numpy as np
import pytest

from apptk.applications.errors import OutputWriteError
from apptk.applications.run import atomic_files, model_folder


def _fail_fsync(monkeypatch, code=errno.ENOSPC):
    def full_disk(descriptor):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic_files.os, "fsync", full_disk)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "history.csv"
    path.write_text("old\n")
    _fail_fsync(monkeypatch)
    with pytest.raises(OutputWriteError) as caught:
        atomic_files.write_text_atomically("new\n", str(path))
    assert str(caught.value) == f"no space left on device while writing {path}"
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["history.csv"]


@pytest.mark.parametrize(
    "code, words",
    [(errno.EROFS, "read-only file system"), (errno.EACCES, "permission denied")],
)
def test_write_errors_are_one_plain_line(tmp_path, monkeypatch, code, words):
    _fail_fsync(monkeypatch, code)
    with pytest.raises(OutputWriteError, match=words):
        atomic_files.write_json_atomically({"a": 1}, str(tmp_path / "config.json"))


def test_written_files_get_the_umask_permissions_not_the_temporary_0600(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    atomic_files.write_json_atomically({"kind": "x"}, str(tmp_path / "config.json"))
    mode = os.stat(tmp_path / "config.json").st_mode & 0o777
    assert mode == 0o666 & ~umask
    assert mode != 0o600 or umask == 0o177


def test_weights_made_in_memory_load_back_exactly(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    path = str(tmp_path / "model.weights.h5")
    atomic_files.save_weights_atomically(model, path)
    copy = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    copy.load_weights(path)
    for original, loaded in zip(model.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(original, loaded)


def test_a_failed_staging_write_removes_the_folders_it_made(tmp_path):
    destination = tmp_path / "a" / "b" / "model" / "1"
    with pytest.raises(RuntimeError), model_folder.staging_folder_for(str(destination)) as staging:
        assert os.path.isdir(staging)
        assert os.stat(staging).st_mode & 0o777 == atomic_files.FOLDER_MODE
        raise RuntimeError("export failed")
    assert os.listdir(tmp_path) == []
