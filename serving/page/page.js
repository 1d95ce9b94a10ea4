// The page of `apptk serve`: one card per served model, each sending TF Serving predict
// requests to this server (nothing else is fetched). Plain DOM code, no framework.
"use strict";

const EXAMPLES = {
  translation: "Hello, how are you?",
  "next-word": "I would like to",
  "fill-mask": "I would like to [MASK] a book.",
  "text-classifier": "Where do you live?",
};

// Colour map for Grad-CAM heat maps (0: blue, 0.5: green, 1: red), as [position, r, g, b].
const COLOURS = [
  [0, 0, 0, 255],
  [0.25, 0, 200, 255],
  [0.5, 0, 230, 0],
  [0.75, 255, 230, 0],
  [1, 255, 0, 0],
];
const LARGEST_CANVAS = 640;

// `el("p", {text: "hi", testid: "x", class: "y"}, child, ...)`: a new element.
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name === "testid") node.dataset.testid = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// POSTs `body` as JSON; the answer, or an Error with the server's one-line "error".
async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    // not JSON: said below by the status
  }
  if (!response.ok || answer.error) {
    throw new Error(answer.error || `${response.status} ${response.statusText}`);
  }
  return answer;
}

const predictPath = (model) => `/v1/models/${encodeURIComponent(model.name)}:predict`;
const percent = (probability) => `${(probability * 100).toFixed(1)}%`;
const shellQuoted = (text) => `'${text.replaceAll("'", "'\\''")}'`;

// The `curl` command sending the same TF Serving request as the card.
function curlCommand(model, value) {
  const url = `${location.origin}${predictPath(model)}`;
  if (model.kind === "image") {
    // The body goes through stdin: a photo's base64 may be longer than one argument can be.
    const file = shellQuoted(value || "photo.jpg");
    return (
      `{ printf '{"inputs": {"${model.input}": [{"b64": "'; base64 -w0 ${file}; ` +
      `printf '"}]}}'; } |\n  curl -d @- ${url}`
    );
  }
  const body = shellQuoted(JSON.stringify({ inputs: { [model.input]: [value] } }));
  return `curl -d ${body} \\\n  ${url}`;
}

// An ordered list of choices with their probabilities as small horizontal bars.
function choiceList(labels, probabilities, testid) {
  const items = labels.map((label, index) => {
    const probability = probabilities[index];
    const width = Math.max(0, Math.min(1, probability)) * 100;
    return el(
      "li",
      { testid: "choice", "data-probability": String(probability) },
      el("span", { class: "choice-label", testid: "choice-label", text: label }),
      el("span", { class: "bar", "aria-hidden": "true" }, el("span", { style: `width: ${width}%` })),
      el("span", { class: "probability", testid: "choice-probability", text: percent(probability) }),
    );
  });
  return el("ol", { class: "choices", testid }, ...items);
}

// A card's header, error line and curl command around the form its kind builds.
function card(model) {
  const id = model.name;
  const section = el("section", {
    class: "card",
    "data-kind": model.kind,
    "data-model": id,
    testid: `card-${id}`,
    "aria-labelledby": `title-${id}`,
  });
  const error = el("p", { class: "error", role: "alert", testid: `error-${id}` });
  error.hidden = true;
  const code = el("code", { testid: `curl-${id}` });
  const ui = {
    model,
    section,
    result: el("div", { class: "result", testid: `result-${id}`, "aria-live": "polite" }),
    setCurl: (value) => {
      code.textContent = curlCommand(model, value);
    },
    showError: (message) => {
      error.textContent = message;
      error.hidden = false;
    },
    clearError: () => {
      error.textContent = "";
      error.hidden = true;
    },
  };
  section.append(
    el(
      "header",
      {},
      el("h2", { id: `title-${id}`, text: id }),
      el("span", { class: "badge", testid: `version-${id}`, text: `version ${model.version}` }),
      el("span", { class: "badge kind", text: model.kind }),
    ),
  );
  const build = BUILDERS[model.kind];
  if (build) build(ui);
  else section.append(el("p", { text: `This page has no form for ${model.kind} models.` }));
  if (!ui.result.parentNode) section.append(ui.result);
  section.append(
    error,
    el("details", { class: "curl" }, el("summary", { text: "curl" }), el("pre", {}, code)),
  );
  return section;
}

// Runs `work` with the card marked busy; its failure is shown as the card's error.
async function busy(ui, button, work) {
  ui.clearError();
  if (button) button.disabled = true;
  ui.section.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (error) {
    ui.result.replaceChildren();
    ui.showError(error.message);
  } finally {
    if (button) button.disabled = false;
    ui.section.removeAttribute("aria-busy");
  }
}

// A text form (Enter submits) sending one text and showing the outputs with `show`.
function textForm(ui, { label, button, multiline, check, show }) {
  const { model } = ui;
  const id = model.name;
  const field = el(multiline ? "textarea" : "input", {
    id: `input-${id}`,
    name: model.input,
    testid: `input-${id}`,
    autocomplete: "off",
    spellcheck: "false",
  });
  if (multiline) field.rows = 3;
  else field.type = "text";
  field.value = EXAMPLES[model.kind] || "";
  const submit = el("button", { type: "submit", testid: `submit-${id}`, text: button });
  const form = el(
    "form",
    { class: "ask" },
    el("label", { for: field.id, text: label }),
    el("div", { class: "row" }, field, submit),
  );
  field.addEventListener("input", () => ui.setCurl(field.value));
  if (multiline) {
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = field.value;
    busy(ui, submit, async () => {
      if (check) check(text);
      const { outputs } = await post(predictPath(model), { inputs: { [model.input]: [text] } });
      show(outputs, text);
    });
  });
  ui.setCurl(field.value);
  ui.section.append(form);
}

function translationCard(ui) {
  const id = ui.model.name;
  textForm(ui, {
    label: "Sentences to translate (Enter translates, Shift+Enter starts a line)",
    button: "Translate",
    multiline: true,
    show: (outputs) =>
      ui.result.replaceChildren(
        el("p", { class: "translation", testid: `answer-${id}`, text: outputs.translations[0] }),
        el(
          "p",
          { class: "note", title: "mean log-probability per token; nearer 0 is surer" },
          "score ",
          el("span", { testid: `score-${id}`, text: outputs.scores[0].toFixed(2) }),
        ),
      ),
  });
}

function nextWordCard(ui) {
  const id = ui.model.name;
  textForm(ui, {
    label: "Text to continue",
    button: "Next word",
    show: (outputs) =>
      ui.result.replaceChildren(
        choiceList(outputs.words[0], outputs.probabilities[0], `answer-${id}`),
      ),
  });
}

function textClassifierCard(ui) {
  const id = ui.model.name;
  textForm(ui, {
    label: "Text to classify",
    button: "Classify",
    show: (outputs) =>
      ui.result.replaceChildren(
        choiceList(outputs.labels[0], outputs.probabilities[0], `answer-${id}`),
      ),
  });
}

function fillMaskCard(ui) {
  const id = ui.model.name;
  textForm(ui, {
    label: "Text with [MASK] where a word is missing",
    button: "Fill",
    check: (text) => {
      if (text.trim() && !text.includes("[MASK]")) {
        throw new Error("Put [MASK] where a word is missing.");
      }
    },
    show: (outputs, text) => {
      const count = outputs.mask_counts[0];
      const tokens = outputs.tokens[0].slice(0, count);
      const probabilities = outputs.probabilities[0].slice(0, count);
      const parts = text.split("[MASK]");
      const filled = el("p", { class: "filled", testid: `filled-${id}` }, parts[0]);
      parts.slice(1).forEach((part, index) => {
        filled.append(el("mark", { text: tokens[index]?.[0] ?? "[MASK]" }), part);
      });
      const masks = tokens.map((choices, index) =>
        el(
          "div",
          { class: "mask", testid: "mask" },
          el("h3", { text: count > 1 ? `[MASK] ${index + 1}` : "[MASK]" }),
          choiceList(choices, probabilities[index], `mask-${index + 1}`),
        ),
      );
      ui.result.replaceChildren(
        filled,
        el("div", { class: "masks", testid: `answer-${id}` }, ...masks),
      );
    },
  });
}

function imageCard(ui) {
  const { model } = ui;
  const id = model.name;
  const input = el("input", {
    type: "file",
    id: `input-${id}`,
    testid: `input-${id}`,
    accept: "image/jpeg,image/png,image/gif,image/bmp",
    class: "visually-hidden",
  });
  const zone = el(
    "label",
    { class: "drop-zone", testid: `drop-${id}` },
    input,
    el("strong", { text: "Choose a photo" }),
    " or drop one here",
    el("small", { text: "JPEG, PNG, GIF or BMP" }),
  );
  const photo = el("img", { alt: "", testid: `photo-${id}` });
  const canvas = el("canvas", { class: "heat-map", testid: `heatmap-${id}`, "aria-hidden": "true" });
  const toggle = el("input", { type: "checkbox", id: `overlay-${id}`, checked: "" });
  toggle.addEventListener("change", () => {
    canvas.hidden = !toggle.checked;
  });
  const caption = el("span", { testid: `explanation-${id}` });
  const figure = el(
    "figure",
    { class: "photo" },
    el("div", { class: "stack" }, photo, canvas),
    el(
      "figcaption",
      {},
      el("label", {}, toggle, " Grad-CAM heat map "),
      caption,
    ),
  );
  const labels = el("div", { class: "labels" });
  ui.section.append(zone, el("div", { class: "image-result" }, figure, labels));
  ui.result = labels;
  figure.hidden = true;
  photo.addEventListener("error", () => {
    figure.hidden = true;
  });
  ui.setCurl("");

  async function classify(file) {
    ui.setCurl(file.name);
    const dataUrl = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
    const b64 = dataUrl.slice(dataUrl.indexOf(",") + 1);
    const loaded = new Promise((resolve) => photo.addEventListener("load", resolve, { once: true }));
    photo.src = dataUrl;
    photo.alt = `The photo sent: ${file.name}`;
    figure.hidden = false;
    canvas.width = canvas.height = 0;
    caption.textContent = "";
    labels.replaceChildren();
    await busy(ui, null, async () => {
      const predicted = post(predictPath(model), { inputs: { [model.input]: [{ b64 }] } }).then(
        ({ outputs }) =>
          labels.replaceChildren(choiceList(outputs.labels[0], outputs.probabilities[0], `answer-${id}`)),
      );
      const explained = post(`/apptk/models/${encodeURIComponent(id)}:explain`, {
        image_bytes: { b64 },
      }).then(async (explanation) => {
        await loaded;
        drawHeatMap(canvas, explanation.heat_map, photo.naturalWidth, photo.naturalHeight);
        canvas.dataset.drawn = "true";
        caption.textContent = `where the model looks for “${explanation.label}” (${percent(explanation.probability)})`;
      });
      await Promise.all([predicted, explained]);
    });
  }

  input.addEventListener("change", () => {
    if (input.files.length) classify(input.files[0]);
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer.files.length) classify(event.dataTransfer.files[0]);
  });
}

// The colour of a heat value in 0..1, interpolated between COLOURS.
function colour(value) {
  const v = Math.max(0, Math.min(1, value));
  const upper = COLOURS.findIndex(([position]) => position >= v);
  if (upper <= 0) return COLOURS[0].slice(1);
  const [p0, ...low] = COLOURS[upper - 1];
  const [p1, ...high] = COLOURS[upper];
  const t = (v - p0) / (p1 - p0);
  return low.map((channel, index) => Math.round(channel + t * (high[index] - channel)));
}

// Draws the small heat map grid over a photo-sized canvas: coloured, semi-transparent (the
// hotter, the more opaque) and upscaled smoothly by the canvas.
function drawHeatMap(canvas, grid, width, height) {
  const rows = grid.length;
  const columns = grid[0].length;
  const small = el("canvas", { width: columns, height: rows });
  const context = small.getContext("2d");
  const pixels = context.createImageData(columns, rows);
  grid.flat().forEach((value, index) => {
    const alpha = Math.round(255 * (0.15 + 0.5 * Math.max(0, Math.min(1, value))));
    pixels.data.set([...colour(value), alpha], index * 4);
  });
  context.putImageData(pixels, 0, 0);
  const scale = Math.min(1, LARGEST_CANVAS / Math.max(width, height, 1));
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = true;
  target.imageSmoothingQuality = "high";
  target.drawImage(small, 0, 0, canvas.width, canvas.height);
}

const BUILDERS = {
  translation: translationCard,
  "next-word": nextWordCard,
  "fill-mask": fillMaskCard,
  image: imageCard,
  "text-classifier": textClassifierCard,
};

async function start() {
  const main = document.getElementById("models");
  try {
    const response = await fetch("/apptk/models");
    const listing = await response.json();
    if (!response.ok) throw new Error(listing.error || response.statusText);
    main.replaceChildren(...listing.models.map(card));
    if (!listing.models.length) {
      main.append(el("p", { class: "status", text: "No models are served." }));
    }
  } catch (error) {
    main.replaceChildren(
      el("p", {
        class: "error",
        role: "alert",
        testid: "error",
        text: `Could not list the served models: ${error.message}`,
      }),
    );
  }
}

start();
