"""Fine-tuning the masked-LM encoder against training from scratch, by training-set size.

    python bench/fill_mask.py [--encoder PATH] [--train-sizes 250,1000,4000] [--epochs 10]
                              [--seeds 0,1,2] [--work runs/bench_fill_mask]

The task: say whether an English sentence of the local Tatoeba copy (../shared/data) is a
question (?), an exclamation (!) or a statement (.), from its words alone: the end mark is
removed from the text and becomes the label (sentences ending otherwise, or in "...", "?!",
are left out). Training texts come only from sentences whose `stable_split` is "train" (the
split the fill-mask model was pre-trained on), test texts only from the "test" split, which
pre-training never saw. Classes are sampled as evenly as the data allows: the train split
holds only ~540 exclamations (the test split ~26), so larger sets take every exclamation and
split the rest between the other two; the counts are printed.

For each size, the pre-trained encoder is fine-tuned ("fine-tune") and a fresh encoder of the
same vocabulary and size is trained ("scratch"), each for at most --epochs (early stopping on
10% of the training texts, held out by a stable hash) with the pipeline's default learning
rates, once per seed. The table gives medians over seeds: epochs run, training seconds, test
accuracy (with its range over seeds), balanced accuracy (the mean of the per-class recalls,
which the few test exclamations would otherwise hardly move) and each class's recall.
Writes train.tsv, train_SIZE.tsv, test.tsv and one model folder per run under --work.
Prints figures, asserts nothing.
"""

import argparse
import contextlib
import io
import os
import random
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from apptk.applications.fill_mask import load_pretrained_encoder
from apptk.applications.run.presets import PRESETS
from apptk.applications.text.splits import stable_split
from apptk.applications.text.tatoeba_pairs import load_pairs
from apptk.applications.text_classifier import (
    TextClassifier,
    TextClassifierConfig,
    evaluate_text_classifier,
    fit_text_classifier,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_PAIRS = os.path.join(ROOT, "..", "shared", "data", "spa-eng.zip")
LABELS = {"?": "question", "!": "exclamation", ".": "statement"}
MODES = ("fine-tune", "scratch")


def labelled(sentence: str) -> tuple[str, str] | None:
    """`(text without its end mark, label)`, or None for a sentence that ends otherwise."""
    label = LABELS.get(sentence[-1:])
    text = sentence[:-1].rstrip()
    if label is None or not text or text[-1] in LABELS:
        return None
    return text, label


def texts_by_split(pairs_file: str) -> dict[str, dict[str, list[str]]]:
    """The distinct English sentences as `{split: {label: [text, ...]}}`, split by sentence."""
    splits = {split: {label: [] for label in LABELS.values()} for split in ("train", "test")}
    for sentence in dict.fromkeys(pair.english for pair in load_pairs(pairs_file)):
        split = stable_split(sentence)  # the key the fill-mask corpus was split by
        example = labelled(sentence)
        if example and split in splits:
            splits[split][example[1]].append(example[0])
    return splits


def quotas(available: dict[str, int], size: int) -> dict[str, int]:
    """Texts per label for `size` texts: equal shares, a short label's rest shared out."""
    quota = dict.fromkeys(available, 0)
    remaining = min(size, sum(available.values()))
    while remaining:
        open_labels = [label for label in quota if quota[label] < available[label]]
        share = max(1, remaining // len(open_labels))
        for label in open_labels:
            take = min(share, available[label] - quota[label], remaining)
            quota[label] += take
            remaining -= take
    return quota


def sample(by_label: dict[str, list[str]], size: int) -> list[tuple[str, str]]:
    """The first texts of each (already shuffled) label list, so smaller sets are subsets."""
    counts = quotas({label: len(texts) for label, texts in by_label.items()}, size)
    rows = [(text, label) for label, texts in by_label.items() for text in texts[: counts[label]]]
    random.Random(size).shuffle(rows)
    return rows


def write_tsv(path: str, rows: list[tuple[str, str]]) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("text\tlabel\n")
        handle.writelines(f"{text}\t{label}\n" for text, label in rows)
    return path


def describe(rows: list[tuple[str, str]]) -> str:
    return ", ".join(f"{label} {sum(r[1] == label for r in rows)}" for label in LABELS.values())


def run(train_file: str, test_file: str, out: str, mode: str, seed: int, args) -> dict:
    """Trains one classifier and scores it on the test file."""
    config = TextClassifierConfig(
        epochs=args.epochs,
        seed=seed,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
    )
    progress = (
        contextlib.nullcontext() if args.verbose else contextlib.redirect_stdout(io.StringIO())
    )
    with progress:
        summary = fit_text_classifier(
            train_file,
            out,
            encoder=args.encoder,
            from_scratch=mode == "scratch",
            config=config,
            force=True,
        )
    metrics = evaluate_text_classifier(TextClassifier.load(out), test_file)
    recalls = {label: metrics[f"recall[{label}]"] for label in LABELS.values()}
    return {
        "epochs": summary["epochs"],
        "seconds": summary["seconds"],
        "accuracy": metrics["accuracy"],
        "balanced": statistics.mean(recalls.values()),
        **recalls,
    }


def print_table(results: dict) -> None:
    header = f"{'train':>6}  {'mode':<10}{'epochs':>7}{'wall s':>8}  {'test acc (range)':<20}"
    header += f"{'balanced':>9}" + "".join(f"{'rec ' + label[:5]:>11}" for label in LABELS.values())
    print(f"\n{header}")
    for (size, mode), runs in results.items():
        accuracies = [r["accuracy"] for r in runs]
        spread = f"({min(accuracies):.3f}-{max(accuracies):.3f})" if len(runs) > 1 else ""
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        line = f"{size:>6}  {mode:<10}{median['epochs']:>7g}{median['seconds']:>8.0f}  "
        line += f"{median['accuracy']:.3f} {spread:<14}{median['balanced']:>9.3f}"
        line += "".join(f"{median[label]:>11.3f}" for label in LABELS.values())
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--encoder",
        default=PRESETS["fill_mask"].path,
        help="fill-mask folder or export to fine-tune (default: the shipped model)",
    )
    parser.add_argument("--data", default=LOCAL_PAIRS, help="Tatoeba pairs (.zip or .txt)")
    parser.add_argument("--work", default=os.path.join(ROOT, "runs", "bench_fill_mask"))
    parser.add_argument("--train-sizes", default="250,1000,4000")
    parser.add_argument("--test-size", type=int, default=1200, help="test texts, all labels")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="0", help="comma-separated; medians are printed")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--learning-rate", type=float, default=None, help="default: 1e-4 fine-tune, 5e-4 scratch"
    )
    parser.add_argument("--verbose", action="store_true", help="show Keras' progress bars")
    args = parser.parse_args()
    sizes = [int(size) for size in args.train_sizes.split(",")]
    seeds = [int(seed) for seed in args.seeds.split(",")]
    modes = args.modes.split(",")

    if not os.path.exists(args.encoder):
        raise SystemExit(
            f"encoder not found: {args.encoder}; pass --encoder runs/fill_mask (a fitted folder)"
        )
    encoder, vocabulary = load_pretrained_encoder(args.encoder)
    print(
        f"encoder: {os.path.abspath(args.encoder)} ({encoder.num_layers} layers, width "
        f"{encoder.hidden_dim}, {encoder.count_params():,} weights, {len(vocabulary)} word "
        f"pieces, max {encoder.max_length} tokens)"
    )

    splits = texts_by_split(args.data)
    for by_label in splits.values():
        for texts in by_label.values():
            random.Random(0).shuffle(texts)
    os.makedirs(args.work, exist_ok=True)
    test_rows = sample(splits["test"], args.test_size)
    test_file = write_tsv(os.path.join(args.work, "test.tsv"), test_rows)
    pool = sample(splits["train"], max(sizes))
    write_tsv(os.path.join(args.work, "train.tsv"), pool)
    print(f"data: {args.data}")
    print(f"test (test split, never pre-trained on): {len(test_rows)} texts: {describe(test_rows)}")

    results = {}
    for size in sizes:
        train_rows = sample(splits["train"], size)
        train_file = write_tsv(os.path.join(args.work, f"train_{size}.tsv"), train_rows)
        print(f"train {size}: {len(train_rows)} texts: {describe(train_rows)}")
        for mode in modes:
            for seed in seeds:
                out = os.path.join(args.work, "models", f"{size}-{mode}-seed{seed}")
                result = run(train_file, test_file, out, mode, seed, args)
                print(
                    f"  {mode:<10} seed {seed}: {result['epochs']} epochs, "
                    f"{result['seconds']:.0f} s, test accuracy {result['accuracy']:.3f}"
                )
                results.setdefault((size, mode), []).append(result)
    print_table(results)


if __name__ == "__main__":
    main()
