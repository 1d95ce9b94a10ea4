"""Exporting a masked language model as a TF Serving SavedModel."""

from apptk.applications.fill_mask.masker import FillMasker
from apptk.applications.run.export import export_module


def export_fill_mask(masker: FillMasker, out: str, force: bool = False) -> str:
    """Writes a TF Serving SavedModel: `serving_default` maps texts to the top-5 fillers."""
    module = masker.module
    return export_module(
        module,
        out,
        signatures={"serving_default": module.serve, "fill": module.fill},
        force=force,
    )
