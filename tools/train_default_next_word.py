"""Trains the shipped next-word model on the English side of the Tatoeba pairs.

    python tools/train_default_next_word.py [--resume]

Writes the distinct English sentences to runs/tatoeba_english.txt, fits runs/next_word on them
(a stable hash holds out 5% validation and 5% test lines), then `apptk export next-word
--model runs/next_word --out savedmodels/next_word/1 --force` ships it.
"""

import os
import sys

from apptk.applications.next_word import NextWordConfig, fit_next_word
from apptk.applications.text.tatoeba_pairs import write_english_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_PAIRS = os.path.join(ROOT, "..", "shared", "data", "spa-eng.zip")
CORPUS = os.path.join(ROOT, "runs", "tatoeba_english.txt")

if __name__ == "__main__":
    pairs_file = LOCAL_PAIRS if os.path.exists(LOCAL_PAIRS) else None
    config = NextWordConfig(cell="lstm", vocabulary_size=8000, embedding_dim=256, units=256)
    summary = fit_next_word(
        write_english_corpus(CORPUS, pairs_file),
        os.path.join(ROOT, "runs", "next_word"),
        config,
        resume="--resume" in sys.argv,
    )
    print(summary)
