"""Scoring a translator on the held-out test split: BLEU and chrF (sacrebleu), speed."""

import time

import sacrebleu

from apptk.applications.text.tatoeba_pairs import group_references, load_pairs, split_pairs


def held_out_references(data: str | None = None, limit: int | None = None):
    """English test sentences with every known Spanish translation of each."""
    sources, references = group_references(split_pairs(load_pairs(data))["test"])
    if limit:
        sources, references = sources[:limit], references[:limit]
    return sources, references


def score_translations(hypotheses: list[str], references: list[list[str]]) -> dict:
    """Corpus BLEU and chrF against a variable number of references per sentence."""
    width = max(len(refs) for refs in references)
    # sacrebleu takes one stream per reference slot; None marks a missing reference.
    streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]
    return {
        "bleu": round(sacrebleu.corpus_bleu(hypotheses, streams).score, 2),
        "chrf": round(sacrebleu.corpus_chrf(hypotheses, streams).score, 2),
    }


def evaluate_translator(
    translator,
    data: str | None = None,
    beam_size: int = 4,
    limit: int | None = None,
    batch_size: int = 64,
) -> dict:
    """Translates the test split and scores it (multi-reference BLEU/chrF, sentences/s)."""
    sources, references = held_out_references(data, limit)
    started = time.perf_counter()
    answers = translator(sources, beam_size=beam_size, batch_size=batch_size)
    seconds = time.perf_counter() - started
    hypotheses = [answer["translation"] for answer in answers]
    return {
        **score_translations(hypotheses, references),
        "sentences": len(sources),
        "sentences_per_second": round(len(sources) / seconds, 1),
        "beam_size": beam_size,
    }
