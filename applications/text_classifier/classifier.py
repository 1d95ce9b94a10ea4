"""Text classification by fine-tuning a pre-trained masked-LM encoder (or from scratch).

Example:

>>> from apptk.applications.text_classifier.classifier import TextClassifier, fit_text_classifier
>>> fit_text_classifier("train.tsv", "runs/questions")  # the shipped encoder, fine-tuned
>>> TextClassifier.load("runs/questions")(["where do you live"])
[[{'label': 'question', 'probability': 0.97}, {'label': 'statement', ...}]]
"""

import dataclasses
import os
import time

import keras
import numpy as np
import tensorflow as tf

from apptk.applications.run import distribution
from apptk.applications.run import model_folder
from apptk.applications.run import training
from apptk.applications.errors import DataError
from apptk.applications.fill_mask.data import sentence_ids
from apptk.applications.text.splits import stable_split
from apptk.applications.models.text_classifier_model import TextClassifierModel
from apptk.applications.text.processing import MAX_CHARACTERS
from apptk.applications.text.wordpiece import WordPieceTokenizer, read_vocabulary, write_vocabulary

KIND = "text-classifier"
VOCABULARY_FILE = "vocabulary.txt"


@dataclasses.dataclass
class TextClassifierConfig:
    """Hyper-parameters of a text classifier; saved as `config.json` beside its weights.

    The encoder fields are copied from the pre-trained encoder when there is one.
    """

    kind: str = KIND
    labels: list[str] = dataclasses.field(default_factory=list)
    pretrained: bool = True
    max_length: int = 48
    hidden_dim: int = 192
    num_heads: int = 3
    intermediate_dim: int = 768
    num_layers: int = 4
    dropout: float = 0.1
    learning_rate: float | None = None  # 1e-4 to fine-tune, 5e-4 from scratch
    batch_size: int = 32
    epochs: int = 10
    patience: int = 3
    seed: int = 0

    def resolved_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 1e-4 if self.pretrained else 5e-4


def read_labelled_texts(path: str) -> tuple[list[str], list[str]]:
    """`text<TAB>label` lines of a UTF-8 file → `(texts, labels)`; a `text<TAB>label` header
    line is skipped, a malformed line is an error that names it."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError as error:
        raise DataError(f"Labelled file not found: {path}") from error
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text ({error.reason}).") from error
    except OSError as error:
        raise DataError(f"Cannot read {path}: {error.strerror}.") from error
    texts, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == 1 and line.strip().lower() == "text\tlabel"):
            continue
        columns = line.split("\t")
        if len(columns) != 2 or not columns[0].strip() or not columns[1].strip():
            raise DataError(f"{path}, line {number}: expected 'text<TAB>label', got {line[:60]!r}.")
        texts.append(columns[0].strip())
        labels.append(columns[1].strip())
    if not texts:
        raise DataError(f"{path} holds no labelled texts.")
    return texts, labels


def load_encoder(path: str | None):
    """A pre-trained encoder and its vocabulary and configuration, from a fitted fill-mask
    folder or an exported fill-mask SavedModel (None: the shipped default)."""
    from apptk.applications.fill_mask.masker import DEFAULT_MODEL, module_from_export, module_from_folder

    path = path or DEFAULT_MODEL
    if os.path.exists(os.path.join(path, model_folder.CONFIG_FILE)):
        module = module_from_folder(path)
    else:
        module = module_from_export(path)
    vocabulary = [token.decode("utf-8") for token in module.vocabulary.numpy()]
    return module.model.encoder, vocabulary


def _encoder_config(config: TextClassifierConfig, encoder) -> TextClassifierConfig:
    return dataclasses.replace(
        config,
        max_length=encoder.max_length,
        hidden_dim=encoder.hidden_dim,
        num_heads=encoder.num_heads,
        intermediate_dim=encoder.intermediate_dim,
        num_layers=encoder.num_layers,
        dropout=encoder.dropout,
    )


def build_classifier(config: TextClassifierConfig, vocabulary_size: int):
    """The classifier around a fresh encoder of the configured size."""
    from apptk.applications.models.text_encoder import TextEncoder

    encoder = TextEncoder(
        vocabulary_size,
        max_length=config.max_length,
        hidden_dim=config.hidden_dim,
        num_heads=config.num_heads,
        intermediate_dim=config.intermediate_dim,
        num_layers=config.num_layers,
        dropout=config.dropout,
        name="encoder",
    )
    model = TextClassifierModel(encoder, len(config.labels), dropout=config.dropout)
    model(keras.ops.ones((1, 4), "int32"))
    return model


def _dataset(texts, labels, tokenizer, config, shuffle):
    dataset = tf.data.Dataset.from_tensor_slices((texts, labels))
    if shuffle:
        dataset = dataset.shuffle(len(texts), seed=config.seed, reshuffle_each_iteration=True)

    def tokenize(batch_texts, batch_labels):
        ids = sentence_ids(tokenizer.tokenize(batch_texts), config.max_length)
        return ids.to_tensor(), batch_labels

    return dataset.batch(config.batch_size).map(tokenize).prefetch(tf.data.AUTOTUNE)


def _split(texts, labels, validation):
    """The training texts and validation texts: a separate file, or 10% by a stable hash."""
    if validation:
        return (texts, labels), read_labelled_texts(validation)
    train, held_out = ([], []), ([], [])
    for text, label in zip(texts, labels):
        side = train if stable_split(text) == "train" else held_out
        side[0].append(text)
        side[1].append(label)
    if not held_out[0]:
        raise DataError("Too few texts to hold out a validation set; pass --val FILE.")
    return train, held_out


def fit_text_classifier(
    data: str,
    out: str,
    encoder: str | None = None,
    from_scratch: bool = False,
    validation: str | None = None,
    config: TextClassifierConfig | None = None,
    force: bool = False,
    resume: bool = False,
    strategy: str = "auto",
) -> dict:
    """Fine-tunes a pre-trained encoder (or trains one from scratch) on a `text<TAB>label` file.

    Args:
        data: the labelled training file.
        out: the model folder to write.
        encoder: a fill-mask folder or export whose encoder is fine-tuned (None: the shipped
            model).
        from_scratch: start from random weights instead (same vocabulary and size as
            `encoder`, so a comparison isolates what pre-training brings).
        validation: a labelled validation file (default: 10% of `data` by a stable hash).
        config: hyper-parameters.
        force: replace a finished model in `out`.
        resume: continue an interrupted run in `out`.
        strategy: the `tf.distribute` strategy (see `apptk.applications.run.distribution`).
    """
    chief_out = out
    distribute, out = distribution.start_training(strategy, out)
    config = config or TextClassifierConfig()
    config = model_folder.config_for_run(out, config, KIND, resume)
    texts, labels = read_labelled_texts(data)
    (train_texts, train_labels), (val_texts, val_labels) = _split(texts, labels, validation)
    classes = sorted(set(train_labels))
    if len(classes) < 2:
        raise DataError(f"{data} has a single label ({classes[0]!r}); a classifier needs two.")
    unknown = sorted(set(val_labels) - set(classes))
    if unknown:
        raise DataError(f"Validation labels never seen in training: {', '.join(unknown[:5])}.")
    keras.utils.set_random_seed(config.seed)
    model_folder.prepare_output_folder(out, force=force, resume=resume)
    config = dataclasses.replace(config, labels=classes, pretrained=not from_scratch)
    # From scratch keeps the encoder's vocabulary and size, so only pre-training differs.
    pretrained_encoder, vocabulary = load_encoder(encoder)
    config = _encoder_config(config, pretrained_encoder)
    write_vocabulary(vocabulary, os.path.join(out, VOCABULARY_FILE))
    model_folder.write_config(config, out)
    tokenizer = WordPieceTokenizer(vocabulary, case_fold=True)
    index = {label: number for number, label in enumerate(classes)}
    with distribute.scope():
        model = build_classifier(config, len(vocabulary))
        if not from_scratch:
            model.encoder.set_weights(pretrained_encoder.get_weights())
        model.compile(
            optimizer=keras.optimizers.AdamW(config.resolved_learning_rate(), weight_decay=0.01),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    summary = training.fit_and_save(
        model,
        _dataset(train_texts, [index[x] for x in train_labels], tokenizer, config, True),
        _dataset(val_texts, [index[x] for x in val_labels], tokenizer, config, False),
        out,
        config.epochs,
        config.patience,
        distribute,
        chief_out,
    )
    summary["train_texts"] = len(train_texts)
    summary["validation_texts"] = len(val_texts)
    return summary


class TextClassifier:
    """Predictions of a fitted text classifier folder: texts in, labels with probabilities out."""

    def __init__(self, model, tokenizer, config: TextClassifierConfig):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config

    @classmethod
    def load(cls, path: str) -> "TextClassifier":
        config = model_folder.read_config(path, TextClassifierConfig, KIND)
        vocabulary = read_vocabulary(os.path.join(path, VOCABULARY_FILE))
        model = build_classifier(config, len(vocabulary))
        model_folder.load_fitted_weights(model, path)
        return cls(model, WordPieceTokenizer(vocabulary, case_fold=True), config)

    def probabilities(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """Class probabilities `[len(texts), classes]`, in `config.labels` order."""
        if not texts:
            raise DataError("No texts to classify.")
        for text in texts:
            if not text.strip():
                raise DataError("A text is empty; give some words to classify.")
            if len(text) > MAX_CHARACTERS:
                raise DataError(
                    f"A text is {len(text):,} characters; the limit is {MAX_CHARACTERS:,}."
                )
        batches = []
        for start in range(0, len(texts), batch_size):
            chunk = tf.constant(texts[start : start + batch_size])
            ids = sentence_ids(self.tokenizer.tokenize(chunk), self.config.max_length).to_tensor()
            batches.append(np.asarray(self.model(ids, training=False)))
        return np.concatenate(batches)

    def __call__(self, texts: list[str]) -> list[list[dict]]:
        """For each text, every label with its probability, likeliest first."""
        if isinstance(texts, str):
            texts = [texts]
        rows = self.probabilities(texts)
        return [
            [
                {"label": self.config.labels[i], "probability": round(float(row[i]), 4)}
                for i in np.argsort(-row)
            ]
            for row in rows
        ]


def evaluate_text_classifier(classifier: TextClassifier, path: str) -> dict:
    """Accuracy and per-label precision and recall on a `text<TAB>label` file."""
    texts, labels = read_labelled_texts(path)
    started = time.perf_counter()
    predicted = np.argmax(classifier.probabilities(texts), axis=1)
    seconds = time.perf_counter() - started
    names = classifier.config.labels
    unknown = sorted(set(labels) - set(names))
    if unknown:
        raise DataError(
            f"{path} has labels the model was not trained on: {', '.join(unknown[:5])} "
            f"(it knows {', '.join(names)})."
        )
    truth = np.array([names.index(label) for label in labels])
    metrics = {"accuracy": round(float(np.mean(predicted == truth)), 4), "texts": len(texts)}
    for number, name in enumerate(names):
        hits = np.sum((predicted == number) & (truth == number))
        metrics[f"precision[{name}]"] = round(float(hits / max(np.sum(predicted == number), 1)), 4)
        metrics[f"recall[{name}]"] = round(float(hits / max(np.sum(truth == number), 1)), 4)
    metrics["texts_per_second"] = round(len(texts) / seconds, 1)
    return metrics
