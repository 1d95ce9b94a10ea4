"""Trains the shipped next-word model on the English side of the Tatoeba pairs.

    python tools/train_default_next_word.py [--resume] [--with-kjv] [--epochs N] [--cell transformer]

Writes the distinct English sentences to runs/tatoeba_english.txt, fits runs/next_word on them
(a stable hash holds out 5% validation and 5% test lines), then `apptk export next-word
--model runs/next_word --out savedmodels/next_word/1 --force` ships it. `--with-kjv` adds the
King James Bible's sentences (public domain; `tools/kjv_corpus.py`) and fits runs/next_word_kjv
instead, to compare on `python bench/next_word_prompts.py --model runs/next_word_kjv`.
`--epochs N` trains at most N epochs (default 10, as the shipped model; early stopping after 2
without progress); with `--resume` it is the new total. `--cell transformer` fits the same
budget with a 2-block Transformer of width 256 (context 35, Adam at 1e-3) in
runs/next_word_transformer instead, to compare with the LSTM at equal CPU time.
"""

import argparse
import os
import sys

from apptk.applications.errors import exits_with_one_line
from apptk.applications.next_word import NextWordConfig, fit_next_word
from apptk.applications.run.atomic_files import write_text_atomically
from apptk.applications.text.corpus import read_corpus
from apptk.applications.text.tatoeba_pairs import write_english_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_PAIRS = os.path.join(ROOT, "..", "shared", "data", "spa-eng.zip")
CORPUS = os.path.join(ROOT, "runs", "tatoeba_english.txt")
CORPUS_WITH_KJV = os.path.join(ROOT, "runs", "tatoeba_english_kjv.txt")


def corpus_with_kjv(tatoeba_corpus: str) -> str:
    """Tatoeba's English sentences followed by the KJV's, one per line."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from kjv_corpus import kjv_sentences

    lines = read_corpus(tatoeba_corpus) + kjv_sentences()
    write_text_atomically("\n".join(lines) + "\n", CORPUS_WITH_KJV)
    return CORPUS_WITH_KJV


@exits_with_one_line
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run")
    parser.add_argument("--with-kjv", action="store_true", help="add the KJV's sentences")
    parser.add_argument("--epochs", type=int, default=10, help="most epochs (default 10)")
    parser.add_argument("--cell", choices=("lstm", "transformer"), default="lstm")
    args = parser.parse_args()
    pairs_file = LOCAL_PAIRS if os.path.exists(LOCAL_PAIRS) else None
    config = NextWordConfig(
        cell=args.cell,
        vocabulary_size=8000,
        embedding_dim=256,
        units=256,
        epochs=args.epochs,
        learning_rate=1e-3 if args.cell == "transformer" else 2e-3,
    )
    corpus = write_english_corpus(CORPUS, pairs_file)
    folder = "next_word" + ("_kjv" if args.with_kjv else "")
    folder += "_transformer" if args.cell == "transformer" else ""
    summary = fit_next_word(
        corpus_with_kjv(corpus) if args.with_kjv else corpus,
        os.path.join(ROOT, "runs", folder),
        config,
        resume=args.resume,
    )
    print(summary)


if __name__ == "__main__":
    main()
