"""Fill-mask, a BERT-style masked language model: `FillMasker` (sentences with `[MASK]` in,
the likeliest fillers out), its pre-training, evaluation, TF Serving export, and the encoder
that `text_classifier` fine-tunes.

Example:

>>> from apptk.applications.fill_mask import FillMasker
>>> FillMasker.load()(["I would like to [MASK] a book."], top_k=3)  # the `fill_mask` preset
[[[{'token': 'read', 'probability': 0.41}, {'token': 'buy', ...}, ...]]]
"""

from apptk.applications.lazy_exports import lazy_exports

__all__ = [
    "KIND",
    "FillMaskConfig",
    "FillMasker",
    "evaluate_fill_mask",
    "export_fill_mask",
    "fit_fill_mask",
    "load_pretrained_encoder",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "KIND": "spec",
        "FillMaskConfig": "spec",
        "FillMasker": "masker",
        "fit_fill_mask": "training",
        "evaluate_fill_mask": "evaluation",
        "export_fill_mask": "export",
        "load_pretrained_encoder": "encoder",
    },
)
