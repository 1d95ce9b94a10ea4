"""Trains the shipped English→Spanish model in three stages (run from the repository root).

    python tools/train_default_translator.py [--resume] [--stage tatoeba|general|final]
        [--tatoeba-weight N] [--epochs N] [--vocabulary-size N] [--init-from MODEL]
        [--learning-rate R] [--keep-initial S] [--out FOLDER]

The shipped en_es/1 (2026-12-07): `--stage tatoeba`, then `--stage general --vocabulary-size
8000 --epochs 5 --out runs/en_es_general_v8k`, then `--stage final --out runs/en_es_general_v8k`
(the en_es/1 of 2026-12-06, exported), then one more epoch on the mix from that export,
`--stage general --init-from en_es --learning-rate 1.5e-4 --epochs 1 --out
runs/en_es_general_cont` (run while en_es was that model; from scratch, move runs/en_es_final
aside and give its folder, which differs only in the export's float16 token tables), then
`--stage final --keep-initial 0.7 --out runs/en_es_general_cont`, then `apptk export translate
--model runs/en_es_final --out savedmodels/en_es/1 --force`.

Stage `tatoeba` fits runs/en_es from scratch on the Tatoeba pairs (the model shipped as en_es/1).
Stage `general` fine-tunes it (`init_from`; the shipped `en_es` when runs/en_es is absent;
`--init-from` names another model, e.g. to go on from the shipped one; peak learning rate
`--learning-rate`, 5e-4) for `--epochs` (2) epochs on Tatoeba (its training pairs
`--tatoeba-weight` times, 3, so everyday sentences keep their share) plus the local extra pairs in
../shared/data/en_es_extra (Python documentation, Debian and GNOME interfaces, mozilla.org; the
small clean ones three times) and Debian's FreeDict dictionary (twice), with 10% of concatenated
pairs and up to 64 word pieces, into runs/en_es_general; averaging the two epochs' weights is kept
if it is better on validation. `--vocabulary-size N` learns new vocabularies of N tokens a language
from that mix, carrying the model's token embeddings over (`vocabulary_transfer`); `--out` writes
somewhere other than runs/en_es_general. Stage `final` gives the general model in `--out` one last
epoch on Tatoeba alone at a low learning rate (1e-4) into runs/en_es_final: it mends everyday
sentences the mix blurred ("Hello, how are you?" had become "¿cómo eres?") and costs some general
text, of which `--keep-initial` (0.5) wins most back by mixing that share of the general model's
weights into the result (README "Where the translator is weak"). Without a stage the first two run
in turn. TICO-19 is a test set: `fit_translator` refuses it.
"""

import argparse
import os

from apptk.applications.errors import DataError, exits_with_one_line
from apptk.applications.translation import TranslatorConfig, fit_translator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
LOCAL_PAIRS = os.path.join(DATA, "spa-eng.zip")
DICTIONARY = "/usr/share/dictd/freedict-eng-spa.index"  # apt-get install dict-freedict-eng-spa
EXTRA_FILES = ("python_docs.tsv", "debian_gettext.tsv", "gnome_help.tsv:3", "mozilla_www.tsv:3")
TATOEBA_MODEL = os.path.join(ROOT, "runs", "en_es")
GENERAL_MODEL = os.path.join(ROOT, "runs", "en_es_general")
FINAL_MODEL = os.path.join(ROOT, "runs", "en_es_final")


def general_data(tatoeba_weight: int) -> list[str]:
    """Tatoeba, the extra pairs and the dictionary; a missing file is an error, not a skip."""
    files = [f"{LOCAL_PAIRS}:{tatoeba_weight}"] + [
        os.path.join(DATA, "en_es_extra", name) for name in EXTRA_FILES
    ]
    files.append(f"{DICTIONARY}:2")
    missing = [name for name in files if not os.path.exists(name.split(":")[0])]
    if missing:
        raise DataError(f"missing training files: {', '.join(missing)}")
    return files


def new_vocabularies(size: int | None) -> dict:
    """The config fields that learn new vocabularies of `size` (None: keep the model's)."""
    if size is None:
        return {}
    sizes = {"source_vocabulary_size": size, "target_vocabulary_size": size}
    return {"new_vocabularies": True, **sizes}


# The options that set one stage's training; given where that stage does not run, an error.
STAGE_OF_OPTION = {
    "tatoeba_weight": "general",
    "epochs": "general",
    "vocabulary_size": "general",
    "init_from": "general",
    "learning_rate": "general",
    "keep_initial": "final",
}


def refuse_options_of_other_stages(parser: argparse.ArgumentParser, args) -> None:
    """A usage error (exit 2) for a stage's option given where that stage does not run."""
    running = {"tatoeba", "general"} if args.stage is None else {args.stage}
    for stage in sorted(set(STAGE_OF_OPTION.values()) - running):
        misplaced = [
            f"--{name.replace('_', '-')}"
            for name, its_stage in STAGE_OF_OPTION.items()
            if its_stage == stage and getattr(args, name) != parser.get_default(name)
        ]
        if misplaced:
            parser.error(f"{', '.join(misplaced)} apply to --stage {stage} only")


@exits_with_one_line
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--stage", choices=("tatoeba", "general", "final"), default=None)
    parser.add_argument("--tatoeba-weight", type=int, default=3, help="stage general")
    parser.add_argument("--epochs", type=int, default=2, help="stage general: the total")
    parser.add_argument("--vocabulary-size", type=int, default=None, help="stage general")
    parser.add_argument(
        "--init-from", default=None, help="stage general: the model it starts from (see above)"
    )
    parser.add_argument("--learning-rate", type=float, default=5e-4, help="stage general: peak")
    parser.add_argument("--keep-initial", type=float, default=0.5, help="stage final")
    parser.add_argument(
        "--out", default=GENERAL_MODEL, help="stage general's folder (stage final starts from it)"
    )
    args = parser.parse_args()
    refuse_options_of_other_stages(parser, args)
    if args.stage in (None, "tatoeba"):
        data = LOCAL_PAIRS if os.path.exists(LOCAL_PAIRS) else None
        print(fit_translator(data, TATOEBA_MODEL, TranslatorConfig(), resume=args.resume))
    if args.stage in (None, "general"):
        config = TranslatorConfig(
            # Stage one's folder, else the shipped en_es: the model shipped now, which held
            # stage one's weights only in its first version.
            init_from=args.init_from
            or (TATOEBA_MODEL if os.path.isdir(TATOEBA_MODEL) else "en_es"),
            peak_learning_rate=args.learning_rate,
            max_length=64,
            concatenated_share=0.1,
            average_last=2,
            epochs=args.epochs,
            **new_vocabularies(args.vocabulary_size),
        )
        print(
            fit_translator(general_data(args.tatoeba_weight), args.out, config, resume=args.resume)
        )
    if args.stage == "final":
        config = TranslatorConfig(
            init_from=args.out,
            peak_learning_rate=1e-4,
            max_length=64,
            concatenated_share=0.1,
            epochs=1,
            keep_initial=args.keep_initial,
        )
        print(fit_translator(LOCAL_PAIRS, FINAL_MODEL, config, resume=args.resume))


if __name__ == "__main__":
    main()
