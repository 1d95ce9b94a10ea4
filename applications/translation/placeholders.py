"""Format placeholders in software strings (`%s`, `{0}`, ...), found and kept intact.

The tokenizer splits punctuation from letters, so the model writes `%s` back as `% s` and
`{0}` as `{ 0 }`. `restore_placeholders` closes those gaps, but only for placeholders the
source holds: a Spanish "50 % o más" stays as it is.
"""

import re

# printf (%s, %-5.2f, %%; GCC's %qD, %<, %>), numbered (%1, %1$s), named (%(name)s),
# LibreOffice's %PRODUCTNAME and Python/.NET braces ({0}, {name}, {}). No space flag, so
# "50 % de" is not one.
PLACEHOLDER = re.compile(
    r"%\([A-Za-z_]\w*\)[a-z]|%[A-Z]{2,}[A-Z_]*|%\d+\$?[a-z]?"
    r"|%[-+#0q]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|ll|[hlLzjtw])?[a-zA-Z<>%]|\{\w*\}"
)


def find_placeholders(text: str) -> list[str]:
    """The placeholders of `text`, in order: `"Copy %s to {0}"` → `["%s", "{0}"]`."""
    return PLACEHOLDER.findall(text)


def _spaced_pattern(placeholder: str, source: str) -> re.Pattern:
    """Matches `placeholder` with a space allowed between any two characters, not inside a
    longer word (`%s` does not match the start of `% son`) unless the source writes it so
    (`%sB`)."""
    body = " ?".join(re.escape(character) for character in placeholder)
    glued_before = re.search(r"\w" + re.escape(placeholder), source)
    glued_after = re.search(re.escape(placeholder) + r"\w", source)
    before = r"(?<!\w)" if placeholder[0].isalnum() and not glued_before else ""
    after = r"(?!\w)" if placeholder[-1].isalnum() and not glued_after else ""
    return re.compile(before + body + after, re.IGNORECASE)


def restore_placeholders(source: str, translation: str) -> str:
    """`translation` with each of `source`'s placeholders written as in the source.

    >>> restore_placeholders("Delete %d files?", "¿Eliminar % d archivos?")
    '¿Eliminar %d archivos?'
    """
    for placeholder in sorted(set(find_placeholders(source)), key=len, reverse=True):
        translation = _spaced_pattern(placeholder, source).sub(
            lambda _, placeholder=placeholder: placeholder, translation
        )
    return translation
