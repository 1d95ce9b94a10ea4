"""Trains the shipped English→Spanish model (run from the repository root).

    python tools/train_default_translator.py [--resume]

Reads the local pairs file in ../shared/data when it exists (the public file is downloaded
otherwise), writes the model folder to runs/en_es; `apptk export translate --model runs/en_es
--out savedmodels/en_es/1 --force` then ships it.
"""

import os
import sys

from apptk.applications.translation import TranslatorConfig, fit_translator

LOCAL_PAIRS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "spa-eng.zip")

if __name__ == "__main__":
    data = LOCAL_PAIRS if os.path.exists(LOCAL_PAIRS) else None
    summary = fit_translator(data, "runs/en_es", TranslatorConfig(), resume="--resume" in sys.argv)
    print(summary)
