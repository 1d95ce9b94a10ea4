"""Word-level Penn Treebank language models against Zaremba et al. (2014): perplexity and speed.

    python bench/next_word.py --ptb ../shared/data/ptb [--rows small,medium,gru,transformer,
        recipe,recipe_sgd,recipe_400,recipe_lr1e3,keras_lstm_speed] [--resume] [--epochs N] [--max-steps N] [--table]

Reads Mikolov's PTB split (ptb.{train,valid,test}.txt) with the files' own 10,000-word
vocabulary (`<unk>` as in the files, `<eos>` at each line end); see
`apptk.applications.next_word.streams`. Each row trains on the training file as 20 contiguous
streams, carrying the recurrent state from batch to batch (reset at each epoch start), and
reports two held-out figures:

    valid / test     stream perplexity, the papers' figure: the whole file as one stream,
                     state carried from start to end, every token predicted once
    test (sent.)     apptk's per-sentence figure (as `evaluate_next_word`): each line from a
                     fresh state after `<eos>`, the words of the line predicted, not its `<eos>`

Rows:
    small        Zaremba "small": 2x200 LSTM (apptk LSTMCell in keras.layers.RNN), untied, no
                 dropout, init U(-0.1, 0.1), SGD lr 1 halved each epoch after 4, clip 5,
                 bptt 20, batch 20, 13 epochs (paper: 114.5 test)
    medium       Zaremba "medium": 2x650, dropout 0.5, init U(-0.05, 0.05), lr 1 divided by 1.2
                 each epoch after 6, bptt 35, 39 epochs (paper: 82.7 test)
    gru          "small" with apptk's GRUCell, learning rate 0.5 (1.0 diverges)
    transformer  apptk TransformerLanguageModel, 2 blocks of width 256, context 35, AdamW;
                 evaluated over the stream in windows of 35 starting every 8 tokens, each token
                 counted once (at least 27 tokens of context)
    recipe       apptk's 2-CPU-hour recipe: 2x650 LSTM, tied embeddings, dropout 0.4, batch
                 64, AdamW with weight decay, lr 2e-3 halved each epoch after 2, weights
                 averaged (EMA 0.997), 5 epochs
    recipe_sgd   the recipe with the small row's SGD instead: 2x650 LSTM, tied, dropout 0.5,
                 init U(-0.05, 0.05), batch 32, bptt 35, lr 1 halved each epoch after 4, 9 epochs
    recipe_400   twice the epochs for the same time: 2x400 LSTM, tied, dropout 0.4, init
                 U(-0.05, 0.05), batch 20, bptt 35, lr 1 for 10 epochs then halved each epoch,
                 15 epochs (121 min on 2 cores: valid 87.8, test 84.3)
    recipe_lr1e3 the recipe starting at lr 1e-3, halved each epoch after 3 (3 epochs: valid
                 672.5, test 634.9; worse than the recipe's 193 after epoch 3)
    keras_lstm_speed  training tokens/s of "small" built from apptk's LSTMCell in
                 keras.layers.RNN against keras.layers.LSTM(200, use_cudnn=False)

Checkpoints go to runs/ptb/ROW/ after every epoch; `--resume` continues a row from its last
finished epoch. A finished row's figures are added to runs/ptb/results.json, which `--table`
prints. `--max-steps N` cuts every epoch to N batches and scores only the first
`--smoke-tokens` tokens of valid/test (smoke runs; written to runs/ptb/smoke/, never to the
results). The Penn Treebank is for benchmarks only: never ship a model trained on it.
"""

import argparse
import dataclasses
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from apptk.applications.models.recurrent_language_model import RecurrentLanguageModel
from apptk.applications.models.transformer_language_model import TransformerLanguageModel
from apptk.applications.next_word.streams import (
    StreamTraining,
    StreamVocabulary,
    fit_stream,
    read_sentences,
    read_stream,
    sentence_score,
    stream_score,
    window_score,
)
from apptk.applications.run.atomic_files import write_json_atomically
from apptk.layers import LSTMCell

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = os.path.join(ROOT, "runs", "ptb")
TRANSFORMER_STRIDE = 8


@dataclasses.dataclass
class Row:
    """One row of the table: the model, how it trains, and the paper's figure if any."""

    description: str
    build: object  # vocabulary_size -> built Keras model
    training: StreamTraining
    paper_test: float | None = None


def uniform_init(model: keras.Model, scale: float) -> keras.Model:
    """Every weight (embedding, kernels, biases, output) drawn from U(-scale, scale), as
    Zaremba et al. initialise all parameters (no forget-gate bias)."""
    for weight in model.weights:
        weight.assign(keras.random.uniform(weight.shape, -scale, scale, seed=None))
    return model


def recurrent(cell, units, dropout, tie, init_scale=None):
    def build(vocabulary_size):
        model = RecurrentLanguageModel(
            vocabulary_size,
            cell=cell,
            embedding_dim=units,
            units=units,
            dropout=dropout,
            tie_weights=tie,
        )
        model(np.ones((1, 2), "int32"))
        return uniform_init(model, init_scale) if init_scale else model

    return build


def transformer(vocabulary_size):
    model = TransformerLanguageModel(
        vocabulary_size,
        max_length=35,
        hidden_dim=256,
        num_heads=4,
        intermediate_dim=1024,
        num_layers=2,
        dropout=0.2,
    )
    model(np.ones((1, 2), "int32"))
    return model


def zaremba_small_training():
    return StreamTraining(
        batch_size=20, bptt=20, epochs=13, learning_rate=lambda epoch: 0.5 ** max(0, epoch - 4)
    )


def recipe_training(learning_rate: float, halve_after: int):
    # Batches of 64 train 1.4x more tokens/s than 20 on 2 cores (742 against 540; 128 gives
    # 928 but only ~1,500 updates in 2 hours). With 2e-3 halved after 2, 5 epochs took 56 min
    # at 1,428 tokens/s on a faster 2-core machine: valid 162.3, test 153.8 (valid 258,409 and
    # 830 after epochs 1 and 2; see the README).
    return StreamTraining(
        batch_size=64,
        bptt=35,
        epochs=5,
        learning_rate=lambda epoch: learning_rate * 0.5 ** max(0, epoch - halve_after),
        optimizer="adamw",
        clip_norm=1.0,
        weight_decay=0.01,
        sum_over_time=False,
        average_weights=0.997,  # ~330 of the 415 updates an epoch
    )


ROWS = {
    "small": Row(
        "Zaremba small 2x200 LSTM",
        recurrent("lstm", 200, 0.0, tie=False, init_scale=0.1),
        zaremba_small_training(),
        paper_test=114.5,
    ),
    "medium": Row(
        "Zaremba medium 2x650 LSTM",
        recurrent("lstm", 650, 0.5, tie=False, init_scale=0.05),
        StreamTraining(
            batch_size=20,
            bptt=35,
            epochs=39,
            learning_rate=lambda epoch: 1.2 ** -max(0, epoch - 6),
        ),
        paper_test=82.7,
    ),
    "gru": Row(
        "small with apptk GRUCell, lr 0.5",
        recurrent("gru", 200, 0.0, tie=False, init_scale=0.1),
        # At lr 1 the GRU diverges (train ppl 12,966 after 100 steps against 1,726 at 0.5).
        dataclasses.replace(
            zaremba_small_training(), learning_rate=lambda epoch: 0.5 ** max(1, epoch - 3)
        ),
    ),
    "transformer": Row(
        "Transformer 2x256, context 35",
        transformer,
        StreamTraining(
            batch_size=20,
            bptt=35,
            epochs=10,
            learning_rate=lambda epoch: 5e-4 * 0.5 ** max(0, epoch - 4),
            optimizer="adamw",
            clip_norm=1.0,
            weight_decay=0.05,
            sum_over_time=False,
            carry_state=False,
        ),
    ),
    "recipe": Row(
        "apptk recipe 2x650 tied, batch 64",
        recurrent("lstm", 650, 0.4, tie=True),
        recipe_training(2e-3, halve_after=2),
    ),
    "recipe_sgd": Row(
        "recipe with SGD: 2x650 tied, dropout 0.5, batch 32",
        recurrent("lstm", 650, 0.5, tie=True, init_scale=0.05),
        # The small row's SGD (lr 1, loss summed over time, clip 5) won where AdamW did not;
        # 9 epochs of ~13 min fit the 2-hour budget, halving after 4 as the small row does.
        StreamTraining(
            batch_size=32,
            bptt=35,
            epochs=9,
            learning_rate=lambda epoch: 0.5 ** max(0, epoch - 4),
        ),
    ),
    "recipe_400": Row(
        "recipe_sgd narrower for more epochs: 2x400 tied, dropout 0.4, batch 20",
        recurrent("lstm", 400, 0.4, tie=True, init_scale=0.05),
        # 2x400 trains ~2,100 tokens/s on 2 cores against ~1,000 for 2x650 (the output layer
        # and the cells both shrink), so 15 epochs fit the 2 hours where 2x650 fits 7-9;
        # recipe_sgd's last halvings gained under 2 points each, so the rate stays at 1 longer.
        StreamTraining(
            batch_size=20,
            bptt=35,
            epochs=15,
            learning_rate=lambda epoch: 0.5 ** max(0, epoch - 10),
        ),
    ),
    "recipe_lr1e3": Row(
        "recipe, lr 1e-3 halved after epoch 3",
        recurrent("lstm", 650, 0.4, tie=True),
        recipe_training(1e-3, halve_after=3),
    ),
}


def held_out_score(model, ids, row: Row):
    if row.training.carry_state:
        return stream_score(model, ids)
    return window_score(model, ids, model.max_length, TRANSFORMER_STRIDE)


def run_row(name: str, args, data) -> dict:
    row = dataclasses.replace(ROWS[name])
    row.training = dataclasses.replace(row.training, max_steps=args.max_steps)
    if args.epochs:
        row.training.epochs = args.epochs
    smoke = args.max_steps is not None
    folder = os.path.join(RUNS, "smoke", name) if smoke else os.path.join(RUNS, name)
    limit = args.smoke_tokens if smoke else None
    valid, test = data["valid"][:limit], data["test"][:limit]
    sentences = data["test_sentences"][: limit // 25 if limit else None]
    keras.utils.set_random_seed(row.training.seed)
    model = row.build(data["vocabulary"].size)
    print(f"\n== {name}: {row.description}, {model.count_params():,} parameters -> {folder}")
    state = fit_stream(
        model,
        data["train"],
        row.training,
        folder,
        validation=lambda: held_out_score(model, valid, row),
        resume=args.resume,
    )
    started = time.perf_counter()
    test_score = held_out_score(model, test, row)
    context = None if row.training.carry_state else model.max_length
    sentence = sentence_score(
        model, sentences, data["vocabulary"].eos_id, context, TRANSFORMER_STRIDE
    )
    history = state["history"]
    result = {
        "row": name,
        "description": row.description,
        "parameters": model.count_params(),
        "paper_test": row.paper_test,
        "epochs": state["epoch"],
        "valid_perplexity": history[-1]["valid_perplexity"],
        "best_valid_perplexity": min(record["valid_perplexity"] for record in history),
        "test_perplexity": test_score.perplexity,
        "test_tokens": test_score.tokens,
        "test_sentence_perplexity": sentence.perplexity,
        "test_sentence_words": sentence.tokens,
        "train_seconds": state["seconds"],
        "tokens_per_second": statistics.median(r["tokens_per_second"] for r in history),
        "cut_short": state["cut_short"],
    }
    print(
        f"{name}: test stream ppl {test_score.perplexity:.1f} over {test_score.tokens} tokens, "
        f"per-sentence {sentence.perplexity:.1f} over {sentence.tokens} words "
        f"({time.perf_counter() - started:.0f} s to score)"
    )
    if state["cut_short"]:
        print(
            f"CUT SHORT: {args.max_steps} steps per epoch, held-out scores on the first "
            f"{limit} tokens; not a result, not written to results.json"
        )
    else:
        store_result(result)
    return result


def store_result(result: dict) -> None:
    path = os.path.join(RUNS, "results.json")
    results = load_results()
    results[result["row"]] = result
    write_json_atomically(results, path)


def load_results() -> dict:
    path = os.path.join(RUNS, "results.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def print_table(results: dict) -> None:
    header = (
        f"{'row':<13}{'params':>11}{'paper':>7}{'valid':>8}{'test':>8}{'test/sent':>10}"
        f"{'epochs':>7}{'wall min':>9}{'tokens/s':>9}"
    )
    print("\nPenn Treebank, word level (stream perplexity; test/sent = apptk per-sentence)")
    print(header)
    for r in results.values():
        if "test_perplexity" not in r:
            continue
        paper = f"{r['paper_test']:.1f}" if r.get("paper_test") else "-"
        print(
            f"{r['row']:<13}{r['parameters']:>11,}{paper:>7}{r['valid_perplexity']:>8.1f}"
            f"{r['test_perplexity']:>8.1f}{r['test_sentence_perplexity']:>10.1f}"
            f"{r['epochs']:>7}{r['train_seconds'] / 60:>9.1f}{r['tokens_per_second']:>9.0f}"
            + ("  CUT SHORT" if r.get("cut_short") else "")
        )
    speed = results.get("keras_lstm_speed")
    if speed:
        print(
            f"\nsmall-model training tokens/s: apptk LSTMCell in RNN {speed['apptk_rnn']:.0f}, "
            f"as in the rows (RecurrentLanguageModel, masked, stateful) {speed['apptk_rows']:.0f}, "
            f"keras.layers.LSTM(use_cudnn=False) {speed['keras_lstm']:.0f}; "
            f"apptk / keras = {speed['ratio']:.2f}"
        )


def plain_small_model(vocabulary_size: int, recurrent_layer) -> keras.Model:
    """Embedding -> 2 recurrent layers of 200 -> logits, without masking or state."""
    return keras.Sequential(
        [
            keras.Input((20,), dtype="int32"),
            keras.layers.Embedding(vocabulary_size, 200),
            recurrent_layer(),
            recurrent_layer(),
            keras.layers.Dense(vocabulary_size),
        ]
    )


def sgd_steps(forward, model, data: np.ndarray, steps: int):
    """A function running `steps` SGD steps of the small row's shape (batch 20, bptt 20)."""
    optimizer = keras.optimizers.SGD(1.0, global_clipnorm=5.0)
    batches = [
        (data[i : i + 400].reshape(20, 20), data[i + 1 : i + 401].reshape(20, 20))
        for i in range(0, steps * 400, 400)
    ]

    @tf.function
    def train_step(inputs, targets):
        with tf.GradientTape() as tape:
            logits = forward(inputs)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
            )
            objective = loss * 20.0  # summed over the 20 steps, as the rows train
        gradients = tape.gradient(objective, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss

    def run():
        for inputs, targets in batches:
            loss = train_step(inputs, targets)
        float(loss)

    return run


def keras_lstm_speed(args, data) -> dict:
    """apptk's LSTMCell in keras.layers.RNN against keras.layers.LSTM on the small model.

    Each variant runs a warm-up window, then the variants take turns window by window (so a
    load change on the shared machine hits all of them); the figure is the median window.
    """
    size = data["vocabulary"].size
    windows, steps = (3, 20) if args.max_steps else (5, 50)
    keras.utils.set_random_seed(0)
    apptk_rnn = plain_small_model(
        size, lambda: keras.layers.RNN(LSTMCell(200), return_sequences=True)
    )
    keras_lstm = plain_small_model(
        size, lambda: keras.layers.LSTM(200, return_sequences=True, use_cudnn=False)
    )
    rows_model = recurrent("lstm", 200, 0.0, tie=False, init_scale=0.1)(size)
    states = [[tf.zeros((20, 200)), tf.zeros((20, 200))] for _ in range(2)]
    runners = {
        "keras_lstm": sgd_steps(
            lambda x: keras_lstm(x, training=True), keras_lstm, data["train"], steps
        ),
        "apptk_rnn": sgd_steps(
            lambda x: apptk_rnn(x, training=True), apptk_rnn, data["train"], steps
        ),
        "apptk_rows": sgd_steps(
            lambda x: rows_model.step(x, states, training=True)[0], rows_model, data["train"], steps
        ),
    }
    rates = {name: [] for name in runners}
    for window in range(windows + 1):
        for name, run in runners.items():
            started = time.perf_counter()
            run()
            if window:
                rates[name].append(steps * 400 / (time.perf_counter() - started))
    figures = {name: statistics.median(values) for name, values in rates.items()}
    for name, rate in figures.items():
        print(f"  {name}: {rate:.0f} tokens/s (median of {windows} windows of {steps} steps)")
    figures["ratio"] = figures["apptk_rnn"] / figures["keras_lstm"]
    figures["row"] = "keras_lstm_speed"
    print(
        f"apptk LSTMCell / keras.layers.LSTM training speed: {figures['ratio']:.2f} "
        f"(rows' model: {figures['apptk_rows'] / figures['keras_lstm']:.2f})"
    )
    if args.max_steps:
        print("CUT SHORT: smoke timing windows; not written to results.json")
    else:
        store_result(figures)
    return figures


def load_ptb(folder: str) -> dict:
    paths = {name: os.path.join(folder, f"ptb.{name}.txt") for name in ("train", "valid", "test")}
    missing = [path for path in paths.values() if not os.path.exists(path)]
    if missing:
        raise SystemExit(f"PTB files not found: {', '.join(missing)}")
    vocabulary = StreamVocabulary.from_file(paths["train"])
    data = {name: read_stream(path, vocabulary) for name, path in paths.items()}
    data["vocabulary"] = vocabulary
    data["test_sentences"] = read_sentences(paths["test"], vocabulary)
    print(
        f"Penn Treebank: vocabulary {len(vocabulary.words)} words; tokens train "
        f"{len(data['train'])}, valid {len(data['valid'])}, test {len(data['test'])}"
    )
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptb", default=os.path.join(ROOT, "..", "shared", "data", "ptb"))
    parser.add_argument(
        "--rows", default="small", help=f"comma-separated: {', '.join(ROWS)}, keras_lstm_speed"
    )
    parser.add_argument("--resume", action="store_true", help="continue rows from runs/ptb/ROW")
    parser.add_argument("--epochs", type=int, default=None, help="override a row's epochs")
    parser.add_argument("--max-steps", type=int, default=None, help="smoke run: steps per epoch")
    parser.add_argument("--smoke-tokens", type=int, default=5000)
    parser.add_argument("--table", action="store_true", help="print runs/ptb/results.json")
    args = parser.parse_args()
    if args.table:
        print_table(load_results())
        return
    rows = args.rows.split(",")
    unknown = [row for row in rows if row not in ROWS and row != "keras_lstm_speed"]
    if unknown:
        parser.error(f"unknown rows {unknown}")
    data = load_ptb(args.ptb)
    results = {}
    for row in rows:
        if row == "keras_lstm_speed":
            results[row] = keras_lstm_speed(args, data)
        else:
            results[row] = run_row(row, args, data)
    print_table(results)


if __name__ == "__main__":
    main()
