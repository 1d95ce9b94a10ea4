"""Image classification: `ImageClassifier` (photos in, labels and probabilities out, Grad-CAM),
transfer learning or a CNN from scratch, evaluation and TF Serving export.

Example:

>>> from apptk.applications.image import ImageClassifier
>>> ImageClassifier.load()(["photo.jpg"], top_k=2)  # the shipped ImageNet MobileNetV2
[[{'label': 'tabby cat', 'probability': 0.62}, {'label': 'tiger cat', 'probability': 0.21}]]
"""

from apptk.applications.lazy_exports import lazy_exports

__all__ = [
    "ARCHITECTURES",
    "KIND",
    "ImageClassifier",
    "ImageConfig",
    "evaluate_image_classifier",
    "export_image",
    "fit_image",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ARCHITECTURES": "spec",
        "KIND": "spec",
        "ImageConfig": "spec",
        "ImageClassifier": "classifier",
        "fit_image": "training",
        "evaluate_image_classifier": "evaluation",
        "export_image": "export",
    },
)
