"""Next-word language models against Zaremba et al. (2014): a table of perplexities and speeds.

    python bench/next_word.py [--epochs N] [--rows small,rnn,gru,transformer,medium]

On the Penn Treebank files (ptb.train.txt, ptb.valid.txt, ptb.test.txt) when they are in
../shared/data; otherwise on the English side of the local Tatoeba pairs, split 90/5/5 by a
stable hash of each sentence, and the table says so (never under PTB's name). Each row trains
a fresh model with the project's own cells and prints: parameters, epochs, wall time,
validation and test perplexity, training tokens per second. Prints figures, asserts nothing.

Rows:
    small        Zaremba "small": 2-layer LSTM, 200 units, no dropout, untied (paper: 114.5 test)
    rnn, gru     the same size with SimpleRNN / GRU cells
    medium       2-layer LSTM, 650 units, dropout 0.5, tied (paper's "medium": 82.7 test)
    transformer  2-block causal Transformer, width 256
"""

import argparse
import math
import os
import time

import keras

from apptk.applications.next_word.data import token_stream, window_dataset
from apptk.applications.next_word.spec import NextWordConfig, build_language_model
from apptk.applications.next_word.training import compile_language_model
from apptk.applications.text.corpus import read_corpus, split_corpus
from apptk.applications.text.word_vocabulary import WordTokenizer, learn_word_vocabulary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")


def zaremba_small(cell: str) -> NextWordConfig:
    """Zaremba et al.'s small configuration: 2 layers of 200 units, no dropout, untied."""
    return NextWordConfig(
        cell=cell,
        embedding_dim=200,
        units=200,
        dropout=0.0,
        tie_weights=False,
        batch_size=20,
        sequence_length=20,
    )


ROWS = {
    "small": zaremba_small("lstm"),
    "rnn": zaremba_small("rnn"),
    "gru": zaremba_small("gru"),
    "medium": NextWordConfig(
        cell="lstm", embedding_dim=650, units=650, dropout=0.5, batch_size=20, sequence_length=35
    ),
    "transformer": NextWordConfig(
        cell="transformer",
        embedding_dim=256,
        num_heads=4,
        dropout=0.1,
        batch_size=20,
        sequence_length=35,
        learning_rate=1e-3,
    ),
}


def corpus_splits() -> tuple[str, dict[str, list[str]]]:
    """PTB's own splits when present, else the held-out English Tatoeba sentences."""
    ptb = {name: os.path.join(DATA, f"ptb.{name}.txt") for name in ("train", "valid", "test")}
    if all(os.path.exists(path) for path in ptb.values()):
        return "Penn Treebank", {
            "train": read_corpus(ptb["train"]),
            "validation": read_corpus(ptb["valid"]),
            "test": read_corpus(ptb["test"]),
        }
    from apptk.applications.text.tatoeba_pairs import load_pairs

    pairs = load_pairs(os.path.join(DATA, "spa-eng.zip"))
    sentences = list(dict.fromkeys(pair.english for pair in pairs))
    return "Tatoeba English (PTB files absent; NOT Penn Treebank)", split_corpus(sentences)


def run_row(name: str, config: NextWordConfig, splits, tokenizer, epochs: int) -> dict:
    keras.utils.set_random_seed(0)
    config.epochs = epochs

    def windows(split, shuffle):
        stream = token_stream(splits[split], tokenizer)
        return window_dataset(stream, config.sequence_length, config.batch_size, shuffle), stream

    train, train_stream = windows("train", True)
    validation, _ = windows("validation", False)
    test, _ = windows("test", False)
    model = build_language_model(config, tokenizer.vocabulary_size)
    compile_language_model(model, config)
    started = time.perf_counter()
    history = model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        verbose=2,
        callbacks=[
            keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True),
        ],
    )
    seconds = time.perf_counter() - started
    epochs_run = len(history.history["loss"])
    return {
        "row": name,
        "cell": config.cell,
        "parameters": model.count_params(),
        "epochs": epochs_run,
        "seconds": seconds,
        "valid_ppl": math.exp(min(history.history["val_loss"])),
        "test_ppl": math.exp(model.evaluate(test, verbose=0)[0]),
        "tokens_per_s": int(train_stream.shape[0]) * epochs_run / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rows", default="small,rnn,gru,transformer")
    parser.add_argument("--vocabulary-size", type=int, default=10_005)
    parser.add_argument("--max-lines", type=int, default=None, help="cap each split (smoke runs)")
    args = parser.parse_args()

    corpus_name, splits = corpus_splits()
    if args.max_lines:
        splits = {name: lines[: args.max_lines] for name, lines in splits.items()}
    vocabulary = learn_word_vocabulary(splits["train"], args.vocabulary_size, min_count=1)
    tokenizer = WordTokenizer(vocabulary)
    print(
        f"corpus: {corpus_name}; train lines {len(splits['train'])}, vocabulary {len(vocabulary)}"
    )
    results = [
        run_row(row, ROWS[row], splits, tokenizer, args.epochs) for row in args.rows.split(",")
    ]
    header = f"{'row':<12}{'cell':<12}{'params':>11}{'epochs':>7}{'wall s':>9}"
    print(f"\n{header}{'valid ppl':>11}{'test ppl':>10}{'tokens/s':>10}")
    for r in results:
        print(
            f"{r['row']:<12}{r['cell']:<12}{r['parameters']:>11,}{r['epochs']:>7}"
            f"{r['seconds']:>9.0f}{r['valid_ppl']:>11.1f}{r['test_ppl']:>10.1f}"
            f"{r['tokens_per_s']:>10.0f}"
        )


if __name__ == "__main__":
    main()
