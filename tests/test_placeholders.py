"""Format placeholders (`%s`, `{0}`) are found, kept in translations, and counted."""

import pytest
import tensorflow as tf

from apptk.applications.translation import Translator
from apptk.applications.translation.placeholders import find_placeholders, restore_placeholders


@pytest.mark.parametrize(
    "text, placeholders",
    [
        ("Cannot open %s: %d errors (100%%)", ["%s", "%d", "%%"]),
        ("%-5.2f %lu %*d %1$s %(count)d", ["%-5.2f", "%lu", "%*d", "%1$s", "%(count)d"]),
        ("GCC: %qD in %<%s%>", ["%qD", "%<", "%s", "%>"]),
        ("Welcome to %PRODUCTNAME %1, {0} of {total}", ["%PRODUCTNAME", "%1", "{0}", "{total}"]),
        ("Un 50 % de los archivos {", []),
    ],
)
def test_placeholders_are_found_as_printf_qt_python_and_libreoffice_write_them(text, placeholders):
    assert find_placeholders(text) == placeholders


@pytest.mark.parametrize(
    "source, spaced, restored",
    [
        ("Delete %d files?", "¿Eliminar % d archivos?", "¿Eliminar %d archivos?"),
        ("Copy {0} to {1}", "Copiar { 1 } en { 0 }", "Copiar {1} en {0}"),
        ("Welcome to %PRODUCTNAME", "Bienvenido a % productname", "Bienvenido a %PRODUCTNAME"),
        ("%(count)d files", "% (count) d archivos", "%(count)d archivos"),
        # Only the source's placeholders, and never inside a longer word:
        ("Hello", "El 50 % s", "El 50 % s"),
        ("Send %s", "El 50 % son % s", "El 50 % son %s"),
        ("50% of %d", "El 50 % de % d", "El 50 % de %d"),
        # ... unless the source glues it to a word itself:
        ("%sB of disk space", "% sB de espacio", "%sB de espacio"),
    ],
)
def test_restore_placeholders_closes_the_gaps_the_tokenizer_made(source, spaced, restored):
    assert restore_placeholders(source, spaced) == restored


class SpacedOutModule:
    """Stands in for a translator module that writes `%s` as the tokenizer leaves it."""

    max_length_variable = tf.Variable(32)

    def token_counts(self, sentences):
        return {"token_counts": tf.constant([len(s.split()) for s in sentences.numpy()])}

    def greedy(self, sentences):
        texts = [
            s.decode("utf-8").replace("%s", "% s").replace("{0}", "{ 0 }")
            for s in sentences.numpy()
        ]
        return {"translations": tf.constant(texts), "scores": tf.zeros([len(texts)])}


def test_the_translator_returns_the_placeholders_as_they_were():
    answers = Translator(SpacedOutModule())(
        ["Open %s in {0}", "No placeholder: 50 % s"], beam_size=1
    )
    assert [a["translation"] for a in answers] == ["Open %s in {0}", "No placeholder: 50 % s"]
