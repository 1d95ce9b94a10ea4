"""`--strategy`: mirrored training matches one device; a 2-worker cluster on loopback trains
every pipeline kind, writes from the chief only, and resumes after a worker is killed."""

import json

import pytest

from apptk.applications.errors import DataError
from apptk.applications.run import distribution
from apptk.applications.run import local_cluster as cluster
from apptk.applications.run.training import read_history
from tests.next_word_fixtures import write_corpus


def test_mirrored_over_two_cpus_matches_one_device(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    config = {"cell": "gru", "vocabulary_size": 60, "min_count": 1, "embedding_dim": 16}
    config |= {"units": 16, "num_layers": 1, "dropout": 0.0, "sequence_length": 8}
    config |= {"batch_size": 16, "epochs": 3, "patience": 5}
    histories = cluster.mirrored_and_one_device_histories(corpus, str(tmp_path), config)
    single, mirrored = histories["one-device"], histories["mirrored"]
    assert len(single["loss"]) == len(mirrored["loss"]) == 3
    # Same global batch, same data, same initial weights: the same loss curve.
    for name in ("loss", "val_loss"):
        for one, two in zip(single[name], mirrored[name]):
            assert two == pytest.approx(one, rel=2e-3)
    assert single["loss"][-1] < single["loss"][0]  # it did train


def test_unknown_strategy_and_missing_cluster_spec_are_clear_errors(monkeypatch):
    with pytest.raises(DataError, match="--strategy must be one of"):
        distribution.strategy_for("parameter-server")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(DataError, match="TF_CONFIG"):
        distribution.strategy_for("multi-worker")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"task": {"type": "worker", "index": 0}}))
    with pytest.raises(DataError, match="'cluster' and 'task'"):
        distribution.strategy_for("multi-worker")


def test_without_a_cluster_every_process_is_the_chief(tmp_path):
    strategy = distribution.strategy_for("one-device")
    assert distribution.is_chief(strategy)
    assert distribution.worker_folder(str(tmp_path / "m"), strategy) == str(tmp_path / "m")


def _assert_cluster_succeeded(codes, logs):
    assert codes == [0, 0], "\n".join(cluster.log_text(logs, i)[-2500:] for i in range(2))


NEXT_WORD_ARGUMENTS = ["--units", "16", "--layers", "1", "--vocabulary-size", "60"]
NEXT_WORD_ARGUMENTS += ["--sequence-length", "8", "--cell", "gru"]


def test_two_worker_next_word_run_writes_from_the_chief_and_loads(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    out = tmp_path / "model"
    codes = cluster.run_cluster(
        ["fit", "next-word", corpus, "--out", str(out), "--epochs", "2", *NEXT_WORD_ARGUMENTS],
        tmp_path,
    )
    _assert_cluster_succeeded(codes, tmp_path)
    assert len(read_history(str(out))["loss"]) == 2
    assert (out / "model.weights.h5").exists()
    # The other worker wrote only into its own scratch folder, never the model folder.
    scratch = tmp_path / ".model.worker-1"
    assert scratch.exists() and not (scratch / "model.weights.h5").exists()
    from apptk.applications.next_word import NextWordPredictor

    predictions = NextWordPredictor.load(str(out))(["the quick brown"], top_k=3)[0]
    assert len(predictions) == 3


def _labelled_file(path, lines):
    rows = [f"{line.rstrip(' .')}\t{'park' if 'park' in line else 'other'}" for line in lines]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_two_worker_runs_of_the_other_text_pipelines_load(tmp_path, synthetic_pairs_file):
    """Translator, masked LM and a text classifier fine-tuned from it, each on 2 workers."""
    from apptk.applications.fill_mask import FillMasker
    from apptk.applications.text_classifier import TextClassifier
    from apptk.applications.translation import Translator
    from tests.next_word_fixtures import synthetic_lines

    lines = synthetic_lines()
    corpus = write_corpus(tmp_path / "corpus.txt", lines)
    runs = {
        "translate": ["fit", "translate", "--data", synthetic_pairs_file, "--max-pairs", "200"]
        + ["--hidden-dim", "16"]
        + ["--layers", "1", "--vocabulary-size", "120"],
        "fill-mask": ["fit", "fill-mask", corpus, "--hidden-dim", "16", "--layers", "1"]
        + ["--vocabulary-size", "120", "--max-length", "24"],
        "text-classifier": ["fit", "text-classifier", _labelled_file(tmp_path / "l.tsv", lines)]
        + ["--encoder", str(tmp_path / "fill-mask")],
    }
    for kind, arguments in runs.items():
        logs = tmp_path / f"logs-{kind}"
        logs.mkdir()
        out = str(tmp_path / kind)
        codes = cluster.run_cluster([*arguments, "--out", out, "--epochs", "2"], logs)
        _assert_cluster_succeeded(codes, logs)
        assert len(read_history(out)["loss"]) == 2, kind
    assert Translator.load(str(tmp_path / "translate"))(["the cat sees the dog ."])[0]
    fillers = FillMasker.load(str(tmp_path / "fill-mask"))(["the [MASK] sees the dog ."])[0]
    assert len(fillers) == 1 and len(fillers[0]) == 5
    labels = TextClassifier.load(str(tmp_path / "text-classifier"))(["the fox in the park"])[0]
    assert {label["label"] for label in labels} == {"park", "other"}


def test_two_worker_image_run_loads_and_classifies(tmp_path):
    from apptk.applications.image import ImageClassifier
    from tests.image_fixtures import make_image_folder

    photos = make_image_folder(tmp_path / "photos", per_class=8)
    out = str(tmp_path / "images")
    options = ["--arch", "cnn", "--epochs", "2", "--image-size", "32", "--batch-size", "8"]
    codes = cluster.run_cluster(["fit", "image", photos, "--out", out, *options], tmp_path)
    _assert_cluster_succeeded(codes, tmp_path)
    assert len(read_history(out)["loss"]) == 2
    photo = next((tmp_path / "photos" / "red").iterdir())
    answers = ImageClassifier.load(out)([str(photo)], top_k=3)
    assert {answer["label"] for answer in answers[0]} == {"blue", "green", "red"}


def test_worker_killed_mid_run_resumes_after_the_last_finished_epoch(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    out = tmp_path / "model"
    first_run, second_run = tmp_path / "first", tmp_path / "second"
    first_run.mkdir()
    second_run.mkdir()
    arguments = ["fit", "next-word", corpus, "--out", str(out), "--epochs", "4"]
    arguments += NEXT_WORD_ARGUMENTS
    processes = cluster.start_workers(arguments, first_run)
    # The chief fails once its peer is gone (or is stopped, as a cluster manager would).
    chief_code, finished = cluster.kill_worker_after_first_epoch(processes, str(out))
    assert chief_code != 0
    assert 1 <= finished < 4
    codes = cluster.run_cluster([*arguments, "--resume"], second_run)
    _assert_cluster_succeeded(codes, second_run)
    history = read_history(str(out))
    assert len(history["loss"]) == 4  # one row per epoch: none lost, none run twice
    restarted = cluster.log_text(second_run, 0)
    assert f"Epoch {finished + 1}/4" in restarted
    assert "Epoch 1/4" not in restarted
