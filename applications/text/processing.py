"""In-graph text normalization and detokenization with TensorFlow Text."""

import tensorflow as tf
import tensorflow_text as tf_text

# Punctuation that gets a space on each side before tokenization, Spanish ¿ ¡ included.
_PUNCTUATION = r"([\.\?\!,;:¿¡\"\(\)])"


def _tidy_spaces(text: tf.Tensor) -> tf.Tensor:
    text = tf.strings.regex_replace(text, r"\s+", " ")
    return tf.strings.strip(text)


def normalize_text(text: tf.Tensor, case_fold: bool) -> tf.Tensor:
    """Normalizes a string tensor for tokenization.

    Unicode NFKC (so composed and decomposed accents match), optional case folding (NFKC
    Casefold, which also lower-cases), a space around punctuation and collapsed whitespace.

    Args:
        text: a string tensor of any shape.
        case_fold: whether to case-fold; source text is folded so "Hello" and "hello" read
            alike, target text keeps its case so translations come out properly capitalised.
    """
    text = tf_text.case_fold_utf8(text) if case_fold else tf_text.normalize_utf8(text, "NFKC")
    text = tf.strings.regex_replace(text, _PUNCTUATION, r" \1 ")
    return _tidy_spaces(text)


def join_wordpieces(tokens: tf.RaggedTensor) -> tf.Tensor:
    """Joins WordPiece tokens into readable text: `¿ có ##mo estás ?` → `¿cómo estás?`."""
    text = tf.strings.reduce_join(tokens, separator=" ", axis=-1)
    text = tf.strings.regex_replace(text, r" ##", "")
    text = tf.strings.regex_replace(text, r" ([\.\?\!,;:\)])", r"\1")
    text = tf.strings.regex_replace(text, r"([¿¡\(]) ", r"\1")
    text = tf.strings.regex_replace(text, r"\" (.*?) \"", r'"\1"')
    # Tokenizers split "3.5" and "10:30" at the punctuation; join numbers back.
    text = tf.strings.regex_replace(text, r"(\d)([\.,:]) (\d)", r"\1\2\3")
    return _tidy_spaces(text)


def capitalize_first_letter(text: tf.Tensor) -> tf.Tensor:
    """Upper-cases the first letter, after any opening `¿`, `¡` or quote."""
    opening = tf.strings.regex_replace(text, r"^([¿¡\"\(]*).*$", r"\1")
    rest = tf.strings.substr(text, tf.strings.length(opening), tf.strings.length(text))
    rest_length = tf.strings.length(rest, unit="UTF8_CHAR")
    first_length = tf.minimum(rest_length, 1)  # 0 for an empty string
    first = tf.strings.substr(rest, tf.zeros_like(rest_length), first_length, unit="UTF8_CHAR")
    tail = tf.strings.substr(rest, first_length, rest_length, unit="UTF8_CHAR")
    return opening + tf.strings.upper(first, encoding="utf-8") + tail
