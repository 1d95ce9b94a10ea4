"""The page of `apptk serve` in a real headless browser: Debian's Chromium (/usr/bin/chromium)
driven by Playwright, against the real server serving the default models.

Nothing is downloaded: Playwright launches the system Chromium. Without it the tests are
skipped, unless APPTK_REQUIRE_BROWSER=1 (as in CI, which installs it with apt-get).
"""

import os
import re

import pytest
from serving_fixtures import ROOT, running_server

CHROMIUM = "/usr/bin/chromium"
CAT_PHOTO = os.path.join(
    ROOT, "..", "shared", "data", "imagenet_mobilenet_tflite", "photos", "cat.bmp"
)
ANSWER_MS = 60_000  # slow machines: a first answer loads and traces the model

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the venv has it
    sync_playwright = None

_MISSING = (
    f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if not os.path.exists(CHROMIUM)
    else "the playwright package is not installed"
    if sync_playwright is None
    else None
)
if _MISSING and os.environ.get("APPTK_REQUIRE_BROWSER") != "1":
    pytest.skip(f"{_MISSING}; set APPTK_REQUIRE_BROWSER=1 to fail instead", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    if _MISSING:
        pytest.fail(f"APPTK_REQUIRE_BROWSER=1 but {_MISSING}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-proxy-server"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(browser):
    with running_server() as started:
        yield started


@pytest.fixture
def page(browser, server):
    """The page, loaded with its cards; `page.requested` lists every URL it asked for."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(ANSWER_MS)
    opened = context.new_page()
    opened.requested = []
    opened.on("request", lambda request: opened.requested.append(request.url))
    opened.goto(server.url + "/")
    expect(opened.locator("section.card").first).to_be_visible(timeout=ANSWER_MS)
    yield opened
    context.close()


def model_name(page, kind: str) -> str:
    """The name of the first model of `kind` on the page (its card is `card-NAME`)."""
    return page.locator(f'section.card[data-kind="{kind}"]').first.get_attribute("data-model")


def test_translation_answer_is_shown(page):
    name = model_name(page, "translation")
    section = page.get_by_test_id(f"card-{name}")
    expect(section.get_by_test_id(f"version-{name}")).to_have_text("version 1")
    section.get_by_label(re.compile("Sentences to translate")).fill("Hello, how are you?")
    section.get_by_role("button", name="Translate").click()
    answer = page.get_by_test_id(f"answer-{name}")
    expect(answer).to_have_text("Hola, ¿cómo estás?", timeout=ANSWER_MS)
    score = float(page.get_by_test_id(f"score-{name}").inner_text())
    assert score < 0
    curl = page.get_by_test_id(f"curl-{name}").text_content()
    assert curl.startswith("""curl -d '{"inputs":{"sentences":["Hello, how are you?"]}}'""")
    assert curl.endswith(f"/v1/models/{name}:predict")


def test_photo_is_classified_and_explained(page, tmp_path):
    name = model_name(page, "image")
    photo = CAT_PHOTO
    if not os.path.exists(photo):
        from PIL import Image

        photo = str(tmp_path / "gradient.png")
        Image.linear_gradient("L").convert("RGB").resize((160, 120)).save(photo)
    page.get_by_test_id(f"input-{name}").set_input_files(photo)

    top = page.get_by_test_id(f"answer-{name}").get_by_test_id("choice").first
    expect(top).to_be_visible(timeout=ANSWER_MS)
    label = top.get_by_test_id("choice-label").inner_text()
    probability = float(top.get_attribute("data-probability"))
    assert 0 < probability <= 1
    assert page.get_by_test_id(f"answer-{name}").get_by_test_id("choice").count() == 5
    if photo == CAT_PHOTO:
        assert "cat" in label.lower() or label == "Egyptian Mau", label

    canvas = page.get_by_test_id(f"heatmap-{name}")
    expect(canvas).to_have_attribute("data-drawn", "true", timeout=ANSWER_MS)
    drawn = canvas.evaluate(
        """canvas => {
            const data = canvas.getContext("2d")
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let opaque = 0;
            const reds = new Set();
            for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] > 0) opaque += 1;
                reds.add(data[i]);
            }
            return {width: canvas.width, pixels: data.length / 4, opaque, reds: reds.size};
        }"""
    )
    assert drawn["width"] > 7, drawn  # upscaled from the feature grid
    assert drawn["opaque"] > 0.9 * drawn["pixels"], drawn  # semi-transparent everywhere
    assert drawn["reds"] > 10, drawn  # a smooth colour map, not one flat colour
    assert page.get_by_test_id(f"explanation-{name}").inner_text()


def test_next_word_lists_five_words_with_probabilities(page):
    name = model_name(page, "next-word")
    field = page.get_by_test_id(f"input-{name}")
    field.fill("I would like to")
    field.press("Enter")
    choices = page.get_by_test_id(f"answer-{name}").get_by_test_id("choice")
    expect(choices).to_have_count(5, timeout=ANSWER_MS)
    for index in range(5):
        choice = choices.nth(index)
        assert choice.get_by_test_id("choice-label").inner_text().strip()
        probability = float(choice.get_attribute("data-probability"))
        assert 0 < probability <= 1
        assert choice.get_by_test_id("choice-probability").inner_text().endswith("%")


def test_server_error_is_shown_in_the_card(page, server):
    name = model_name(page, "translation")
    status, expected = server.predict(name, {"inputs": {"sentences": [""]}})
    assert status == 400
    page.get_by_test_id(f"input-{name}").fill("")
    page.get_by_test_id(f"submit-{name}").click()
    error = page.get_by_test_id(f"error-{name}")
    expect(error).to_be_visible(timeout=ANSWER_MS)
    expect(error).to_have_text(expected["error"])
    expect(page.get_by_test_id(f"answer-{name}")).to_have_count(0)


def test_the_page_asks_only_its_own_server(page, server):
    name = model_name(page, "fill-mask")
    field = page.get_by_test_id(f"input-{name}")
    expect(field).to_have_value(re.compile(r"\[MASK\]"))
    field.press("Enter")
    masks = page.get_by_test_id(f"answer-{name}").get_by_test_id("mask")
    expect(masks).to_have_count(1, timeout=ANSWER_MS)
    expect(masks.first.get_by_test_id("choice")).to_have_count(5)
    expect(page.get_by_test_id(f"filled-{name}").locator("mark")).to_have_count(1)

    assert any(url.endswith("/page/page.js") for url in page.requested)
    assert any(url.endswith("/apptk/models") for url in page.requested)
    assert any(url.endswith(f"/v1/models/{name}:predict") for url in page.requested)
    elsewhere = [url for url in page.requested if not url.startswith(server.url + "/")]
    assert not elsewhere, elsewhere
