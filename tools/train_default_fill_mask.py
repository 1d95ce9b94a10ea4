"""Trains the shipped masked language model on the English side of the Tatoeba pairs.

    python tools/train_default_fill_mask.py [--resume]

Writes the distinct English sentences to runs/tatoeba_english.txt, pre-trains runs/fill_mask
on them (a stable hash holds out 5% validation and 5% test lines), then `apptk export
fill-mask --model runs/fill_mask --out savedmodels/fill_mask/1 --force` ships it.
"""

import os
import sys

from apptk.applications.errors import exits_with_one_line
from apptk.applications.fill_mask import FillMaskConfig, fit_fill_mask
from apptk.applications.text.tatoeba_pairs import write_english_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_PAIRS = os.path.join(ROOT, "..", "shared", "data", "spa-eng.zip")
CORPUS = os.path.join(ROOT, "runs", "tatoeba_english.txt")


@exits_with_one_line
def main() -> None:
    pairs_file = LOCAL_PAIRS if os.path.exists(LOCAL_PAIRS) else None
    summary = fit_fill_mask(
        write_english_corpus(CORPUS, pairs_file),
        os.path.join(ROOT, "runs", "fill_mask"),
        FillMaskConfig(),
        resume="--resume" in sys.argv,
    )
    print(summary)


if __name__ == "__main__":
    main()
