"""Scoring a translator on the held-out test split and on public test sets: BLEU and chrF
(sacrebleu, default tokenisation), speed, how many inputs were too long for the model,
register, and whether format placeholders survive."""

import re
import time
from collections import Counter

import sacrebleu

from apptk.applications.text.tatoeba_pairs import group_references, load_pairs, split_pairs
from apptk.applications.translation.placeholders import find_placeholders


def held_out_references(data: str | None = None, limit: int | None = None):
    """English test sentences with every known Spanish translation of each."""
    sources, references = group_references(split_pairs(load_pairs(data))["test"])
    if limit:
        sources, references = sources[:limit], references[:limit]
    return sources, references


def test_file_references(path: str, limit: int | None = None):
    """Every English sentence of a test file (`English<TAB>Spanish` lines) with its
    translations: the whole file is the test set."""
    sources, references = group_references(load_pairs(path))
    if limit:
        sources, references = sources[:limit], references[:limit]
    return sources, references


def score_translations(hypotheses: list[str], references: list[list[str]]) -> dict:
    """Corpus BLEU and chrF against a variable number of references per sentence, and
    sacrebleu's signature of the settings (its defaults)."""
    width = max(len(refs) for refs in references)
    # sacrebleu takes one stream per reference slot; None marks a missing reference.
    streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]
    bleu, chrf = sacrebleu.BLEU(), sacrebleu.CHRF()
    return {
        "bleu": round(bleu.corpus_score(hypotheses, streams).score, 2),
        "chrf": round(chrf.corpus_score(hypotheses, streams).score, 2),
        "signature": f"{bleu.get_signature()} | {chrf.get_signature()}",
    }


FORMAL_ADDRESS = re.compile(r"\busted(es)?\b", re.IGNORECASE)


def formal_share(texts: list[str]) -> float:
    """The share of `texts` that address the reader as "usted"/"ustedes": software text is
    formal, Tatoeba mostly says "tú", so a drift in register shows here (a verb alone, "¿Cómo
    está?", is not counted)."""
    return round(sum(bool(FORMAL_ADDRESS.search(text)) for text in texts) / max(len(texts), 1), 4)


def placeholders_kept(sources: list[str], translations: list[str]) -> dict:
    """Of the sources holding format placeholders, how many (`placeholder_sentences`) and the
    share whose translation holds exactly the same ones (`placeholders_kept`; None if none).
    Software strings lose their meaning when a `%s` is dropped, doubled or altered."""
    with_placeholders = [
        (wanted, translation)
        for source, translation in zip(sources, translations)
        if (wanted := Counter(find_placeholders(source)))
    ]
    kept = sum(
        wanted == Counter(find_placeholders(translation))
        for wanted, translation in with_placeholders
    )
    count = len(with_placeholders)
    return {
        "placeholder_sentences": count,
        "placeholders_kept": round(kept / count, 4) if count else None,
    }


def evaluate_translator(
    translator,
    data: str | None = None,
    beam_size: int = 4,
    limit: int | None = None,
    batch_size: int = 64,
    test_file: str | None = None,
) -> dict:
    """Translates the test split of `data` (or the whole `test_file`) and scores it:
    multi-reference BLEU/chrF, sentences/s, and the share of sentences too long for the model
    (`split`: translated sentence by sentence; `cut`: a sentence lost its end), and how often
    the translations and the first references say "usted" (register), and how many
    sentences with format placeholders keep them (`placeholders_kept`)."""
    if test_file:
        sources, references = test_file_references(test_file, limit)
    else:
        sources, references = held_out_references(data, limit)
    too_long = translator.too_long(sources)
    started = time.perf_counter()
    answers = translator(sources, beam_size=beam_size, batch_size=batch_size)
    seconds = time.perf_counter() - started
    hypotheses = [answer["translation"] for answer in answers]
    return {
        **score_translations(hypotheses, references),
        "sentences": len(sources),
        "sentences_per_second": round(len(sources) / seconds, 1),
        "split_share": round(too_long["split"] / len(sources), 4),
        "cut_share": round(too_long["cut"] / len(sources), 4),
        "usted_share": formal_share(hypotheses),
        "reference_usted_share": formal_share([refs[0] for refs in references]),
        **placeholders_kept(sources, hypotheses),
        "beam_size": beam_size,
    }
