"""tf.distribute in apptk: mirrored against one device, and a 2-worker cluster on 127.0.0.1.

    python bench/distributed.py [--lines 4000] [--epochs 3]

1. The same next-word GRU model, fitted with `--strategy one-device` and `--strategy mirrored`
   over two logical CPU devices (same global batch, same data and initial weights): the loss
   curves side by side and their largest relative difference.
2. `apptk fit next-word --strategy multi-worker` as two worker processes on loopback; worker 1
   is killed after the chief backs up its first epoch, then both are started again with
   `--resume`: which epochs each run trained, and the history rows at the end.

On the English side of the local Tatoeba pairs (the first `--lines` distinct sentences) when
../shared/data has them, else on generated sentences. Prints figures, asserts nothing.
"""

import argparse
import os
import re
import tempfile
import time

from apptk.applications.run import local_cluster as cluster
from apptk.applications.run.training import read_history
from apptk.applications.text.tatoeba_pairs import write_english_corpus
from apptk.tests.next_word_fixtures import write_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAIRS = os.path.join(ROOT, "..", "shared", "data", "spa-eng.zip")


def corpus_file(folder: str, lines: int) -> tuple[str, str]:
    path = os.path.join(folder, "corpus.txt")
    if not os.path.exists(PAIRS):
        from pathlib import Path

        return write_corpus(Path(path)), "generated sentences"
    write_english_corpus(path, PAIRS)
    with open(path, encoding="utf-8") as handle:
        kept = handle.read().splitlines()[:lines]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(kept) + "\n")
    return path, f"first {len(kept):,} Tatoeba English sentences"


def mirrored_table(corpus: str, folder: str, epochs: int) -> None:
    config = {"cell": "gru", "vocabulary_size": 2000, "embedding_dim": 64, "units": 64}
    config |= {"num_layers": 1, "dropout": 0.0, "sequence_length": 20, "batch_size": 32}
    config |= {"epochs": epochs, "patience": epochs}
    histories = cluster.mirrored_and_one_device_histories(corpus, folder, config)
    single, mirrored = histories["one-device"], histories["mirrored"]
    print("epoch  one-device loss  mirrored loss  one-device val  mirrored val")
    differences = []
    for epoch in range(len(single["loss"])):
        row = [single["loss"], mirrored["loss"], single["val_loss"], mirrored["val_loss"]]
        values = [column[epoch] for column in row]
        differences += [abs(values[1] / values[0] - 1), abs(values[3] / values[2] - 1)]
        print(
            f"{epoch + 1:>5}  {values[0]:>15.5f}  {values[1]:>13.5f}  {values[2]:>14.5f}"
            f"  {values[3]:>12.5f}"
        )
    print(
        f"largest relative difference {max(differences):.2e}; wall s one-device "
        f"{single['seconds']:.1f}, mirrored over 2 logical CPUs {mirrored['seconds']:.1f}"
    )


def epochs_in_log(text: str) -> list[int]:
    return sorted({int(number) for number in re.findall(r"Epoch (\d+)/", text)})


def restart_run(corpus: str, folder: str, epochs: int) -> None:
    out = os.path.join(folder, "cluster_model")
    arguments = ["fit", "next-word", corpus, "--out", out, "--epochs", str(epochs)]
    arguments += ["--cell", "gru", "--units", "64", "--layers", "1", "--vocabulary-size", "2000"]
    runs = [os.path.join(folder, name) for name in ("first", "second")]
    for run in runs:
        os.makedirs(run)
    started = time.perf_counter()
    processes = cluster.start_workers(arguments, runs[0])
    chief_code, finished = cluster.kill_worker_after_first_epoch(processes, out)
    first_seconds = time.perf_counter() - started
    chief_log = cluster.log_text(runs[0], 0)
    error = [line for line in chief_log.splitlines() if line.startswith("Error:")]
    print(
        f"run 1: epochs started {epochs_in_log(chief_log)}, worker 1 killed after the chief "
        f"backed up epoch {finished}; chief exit {chief_code} after {first_seconds:.1f} s"
    )
    if error:
        print(f"  chief: {error[0][:160]}")
    started = time.perf_counter()
    codes = cluster.run_cluster([*arguments, "--resume"], runs[1], timeout=1800)
    print(
        f"run 2 (--resume): exit codes {codes}, epochs run "
        f"{epochs_in_log(cluster.log_text(runs[1], 0))}, {time.perf_counter() - started:.1f} s"
    )
    history = read_history(out)
    print(
        f"history.csv: {len(history.get('loss', []))} epoch rows, val_loss "
        + ", ".join(f"{value:.4f}" for value in history.get("val_loss", []))
    )
    print(f"model folder written by the chief only: {sorted(os.listdir(out))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        corpus, described = corpus_file(folder, arguments.lines)
        print(f"Corpus: {described}\n")
        print("1. Mirrored over 2 logical CPU devices vs one device (next-word GRU, 64 units)")
        mirrored_table(corpus, os.path.join(folder, "mirrored"), arguments.epochs)
        print("\n2. Two workers on 127.0.0.1 (MultiWorkerMirroredStrategy), one killed, restarted")
        restart_run(corpus, folder, arguments.epochs)


if __name__ == "__main__":
    main()
