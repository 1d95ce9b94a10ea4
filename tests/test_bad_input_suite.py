"""Every command against bad input: empty, blank, huge and non-UTF-8 text, a model of another
kind, a damaged model, bad numbers, missing and malformed files.

Each case must end with exit status 1 or 2, exactly one `Error:` line, no traceback, and the
folders given as `--out` or `--model` exactly as they were (issue 17).
"""

from pathlib import Path

import pytest
from cli_checks import error_lines, invoke

HUGE = "word " * 3000  # 15,000 characters; the pipelines take 10,000
NOT_UTF8 = "caf\udce9"  # how Python hands over the argument bytes b"caf\xe9"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("bad_input")
    damaged = root / "damaged_model" / "1"
    (damaged / "variables").mkdir(parents=True)
    (damaged / "saved_model.pb").write_bytes(b"\x08\xff\xff\xff not a SavedModel")
    out = root / "out"
    out.mkdir()
    (out / "keep.txt").write_text("a previous result")
    (root / "not_utf8.txt").write_bytes(b"fine line\n\xff\xfe broken\n")
    (root / "empty.txt").write_text("")
    (root / "bad.tsv").write_text("no tab on this line\n")
    (root / "garbage.zip").write_bytes(b"PK\x03\x04 broken zip")
    (root / "not_an_image.jpg").write_text("plain text, not a JPEG")
    (root / "empty_dir").mkdir()
    return {
        name: str(root / name)
        for name in (
            "damaged_model/1",
            "out",
            "not_utf8.txt",
            "empty.txt",
            "bad.tsv",
            "garbage.zip",
            "not_an_image.jpg",
            "empty_dir",
        )
    } | {"missing": str(root / "missing.txt")}


CASES = {
    # Text in
    "translate empty": ["translate", ""],
    "translate blank": ["translate", "   "],
    "translate huge": ["translate", HUGE],
    "translate not UTF-8": ["translate", "Hello.", NOT_UTF8],
    "next-word empty": ["next-word", ""],
    "next-word huge": ["next-word", HUGE],
    "next-word not UTF-8": ["next-word", NOT_UTF8],
    "generate blank": ["generate", " \t "],
    "generate not UTF-8": ["generate", NOT_UTF8],
    "fill-mask empty": ["fill-mask", ""],
    "fill-mask no mask": ["fill-mask", "There is no mask here."],
    "fill-mask not UTF-8": ["fill-mask", NOT_UTF8 + " [MASK]"],
    # Models
    "translate wrong kind": ["translate", "--model", "next_word", "Hello."],
    "next-word wrong kind": ["next-word", "--model", "en_es", "Hello"],
    "fill-mask wrong kind": ["fill-mask", "--model", "en_es", "A [MASK]."],
    "classify wrong kind": ["classify", "--model", "fill_mask", "{photo}"],
    "translate damaged": ["translate", "--model", "{damaged_model/1}", "Hello."],
    "next-word damaged": ["next-word", "--model", "{damaged_model/1}", "Hello"],
    "fill-mask damaged": ["fill-mask", "--model", "{damaged_model/1}", "A [MASK]."],
    "classify damaged": ["classify", "--model", "{damaged_model/1}", "{photo}"],
    "classify-text damaged": ["classify-text", "--model", "{damaged_model/1}", "hi"],
    "translate missing model": ["translate", "--model", "{missing}", "Hello."],
    "export into an existing folder": ["export", "next-word", "--out", "{out}"],
    "evaluate next-word damaged": [
        "evaluate",
        "next-word",
        "{empty.txt}",
        "--model",
        "{damaged_model/1}",
    ],
    # Numbers
    "translate beam 0": ["translate", "--beam", "0", "Hello."],
    "next-word top-k 0": ["next-word", "--top-k", "0", "Hello"],
    "generate length 0": ["generate", "--length", "0", "Hello"],
    "generate temperature -1": ["generate", "--temperature", "-1", "Hello"],
    "generate huge seed": ["generate", "--seed", "99999999999999999999", "Hello"],
    "generate seed not a number": ["generate", "--seed", "abc", "Hello"],
    "fill-mask top-k 0": ["fill-mask", "--top-k", "0", "A [MASK]."],
    "classify top-k 0": ["classify", "--top-k", "0", "{photo}"],
    "fit epochs 0": ["fit", "next-word", "{empty.txt}", "--out", "{out}", "--epochs", "0"],
    "fit units 0": ["fit", "next-word", "{empty.txt}", "--out", "{out}", "--units", "0"],
    "evaluate limit 0": ["evaluate", "next-word", "{empty.txt}", "--limit", "0"],
    "cluster timeout alone": [
        "fit",
        "next-word",
        "{empty.txt}",
        "--out",
        "{out}",
        "--cluster-timeout",
        "5",
    ],
    # Files
    "fit next-word missing corpus": ["fit", "next-word", "{missing}", "--out", "{out}", "--force"],
    "fit next-word empty corpus": ["fit", "next-word", "{empty.txt}", "--out", "{out}", "--force"],
    "fit next-word not UTF-8": ["fit", "next-word", "{not_utf8.txt}", "--out", "{out}", "--force"],
    "fit fill-mask not UTF-8": ["fit", "fill-mask", "{not_utf8.txt}", "--out", "{out}", "--force"],
    "fit translate garbage zip": [
        "fit",
        "translate",
        "--data",
        "{garbage.zip}",
        "--out",
        "{out}",
        "--force",
    ],
    "fit translate malformed": [
        "fit",
        "translate",
        "--data",
        "{bad.tsv}",
        "--out",
        "{out}",
        "--force",
    ],
    "fit text-classifier malformed": [
        "fit",
        "text-classifier",
        "{bad.tsv}",
        "--out",
        "{out}",
        "--force",
    ],
    "fit image empty folder": ["fit", "image", "{empty_dir}", "--out", "{out}", "--force"],
    "evaluate next-word missing": ["evaluate", "next-word", "{missing}"],
    "evaluate translate not UTF-8": ["evaluate", "translate", "--data", "{not_utf8.txt}"],
    "evaluate image empty folder": ["evaluate", "image", "{empty_dir}"],
    "classify not an image": ["classify", "{not_an_image.jpg}"],
    "classify missing file": ["classify", "{missing}"],
    "unknown option": ["translate", "--bogus", "Hello."],
    "unknown command": ["transalte", "Hello."],
}


def snapshot(paths) -> dict:
    state = {}
    for root in paths:
        for path in [Path(root), *sorted(Path(root).rglob("*"))]:
            if path.is_file():
                state[str(path)] = (path.read_bytes(), path.stat().st_mtime_ns)
            elif path.is_dir():
                state[str(path)] = sorted(entry.name for entry in path.iterdir())
    return state


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_error_line_and_changes_nothing(name, files):
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    cat = shared / "imagenet_mobilenet_tflite" / "photos" / "cat.bmp"
    photo = str(cat) if cat.exists() else files["not_an_image.jpg"]
    placeholders = {f"{{{key}}}": value for key, value in (files | {"photo": photo}).items()}
    arguments = [placeholders.get(argument, argument) for argument in CASES[name]]
    guarded = [files["out"], files["damaged_model/1"]]
    before = snapshot(guarded)
    result = invoke(*arguments)
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert len(error_lines(result)) == 1, result.output
    assert "Traceback" not in result.output
    assert snapshot(guarded) == before, "the --out and --model folders must stay as they were"
