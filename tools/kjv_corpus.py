"""Writes the King James Bible (public domain) as a corpus: one sentence per line.

    python tools/kjv_corpus.py OUT.txt

Reads Debian's `bible-kjv-text` through its reader, the `bible` program of the `bible-kjv`
package (`apt-get install bible-kjv`): `bible -l 0 Gen1:1-Rev22:21` prints every verse as
`  N text` under `Book C` headings. Verses are split into sentences after `.`, `?` and `!`
(a verse is often several), so the lines look like the one-sentence lines of the Tatoeba
corpus the next-word model also learns from. Used by `tools/train_default_next_word.py
--with-kjv` to measure whether archaic prose helps everyday prompts.
"""

import re
import shutil
import subprocess
import sys

from apptk.applications.run.atomic_files import write_text_atomically

_VERSE = re.compile(r"^\s*\d+\s+(.*\S)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")


def kjv_sentences() -> list[str]:
    """Every sentence of the KJV, in order."""
    if shutil.which("bible") is None:
        raise SystemExit("The `bible` program is missing: apt-get install bible-kjv")
    printed = subprocess.run(
        ["bible", "-l", "0", "Gen1:1-Rev22:21"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    sentences = []
    for line in printed.splitlines():
        verse = _VERSE.match(line)
        if verse:
            sentences += [part.strip() for part in _SENTENCE_END.split(verse.group(1))]
    return [sentence for sentence in sentences if sentence]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sentences = kjv_sentences()
    write_text_atomically("\n".join(sentences) + "\n", sys.argv[1])
    print(f"{len(sentences):,} sentences, {sum(len(s.split()) for s in sentences):,} words")
