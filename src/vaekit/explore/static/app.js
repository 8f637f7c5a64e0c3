// vaekit explore: the page of one run. Talks only to its own server (/api/...); no other origin is contacted.
"use strict";

const $ = (id) => document.getElementById(id);
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const state = { info: null, z: [], label: 0, map: null, mapTicks: null, ownZ: null, textZ: null, codes: null, mask: null, seed: 1, resamples: 0 };

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    showError(data.error || `HTTP ${response.status}`);
    throw new Error(data.error);
  }
  showError("");
  return data;
}

// Pictures keep their aspect ratio: the width is set from the natural size (CSS: height auto, max-width 100%).
// Small images are enlarged by the whole factor nearest their class's height, pixelated, so that every pixel stays
// one square; large ones are shrunk to it.
const TARGET_HEIGHT = { big: 196, mid: 84, strip: 56 };
function show(img, uri) {
  img.onload = () => {
    const target = TARGET_HEIGHT[Object.keys(TARGET_HEIGHT).find((c) => img.classList.contains(c))] || img.naturalHeight;
    const ratio = target / img.naturalHeight, scale = ratio >= 1 ? Math.round(ratio) : ratio;
    img.style.width = `${Math.round(img.naturalWidth * scale)}px`;
    img.classList.toggle("shrunk", scale < 1);
  };
  img.src = uri;
  if (img.dataset.placeholder) $(img.dataset.placeholder).hidden = true;
}

function withLabel(body) {
  if (state.info.num_classes) body.label = state.label;
  return body;
}

// What differs by kind of data (info.kind): how a decoded point, a clicked test example and a path are shown.
const VIEWS = {
  image: {
    decoded: (out) => show($("decoded"), out.image),
    clicked: (out) => show($("clicked-image"), out.image),
    path: (out) => show($("interp-images"), out.images),
  },
  table: {
    decoded: (out) => renderBars($("decoded-row"), out.row, out.bars),
    clicked: (out) => renderRows($("clicked-rows"), [out.row, out.decoded.row], ["test row", "reconstruction"]),
    path: (out) => {
      renderRows($("interp-rows"), out.rows, out.rows.map((_, i) => `step ${i}`));
      $("interp-empty").hidden = true;
    },
  },
  sequence: {
    decoded: (out) => {
      const box = $("decoded-text");
      box.textContent = out.text || emptyText();
      box.title = `log p(x|z) = ${out.log_prob.toFixed(2)} nats, ${out.tokens} tokens with <eos>`;
      box.hidden = false;
      if (state.info.molecules) showDrawing(box, $("decoded-molecule"), out);
    },
    clicked: (out) => {
      $("clicked-sentence").textContent = out.text;
      $("clicked-recon").textContent = out.decoded.text || emptyText();
      $("clicked-text").hidden = false;
      if (state.info.molecules) {
        showDrawing($("clicked-sentence"), $("clicked-sentence-molecule"), out);
        showDrawing($("clicked-recon"), $("clicked-recon-molecule"), out.decoded);
      }
    },
    path: (out) => {
      if (state.info.molecules) renderMolecules($("interp-molecules"), out.texts, out.molecules, stepNames(out.texts.length));
      else renderSentences($("interp-texts"), out.texts);
      $("interp-empty").hidden = true;
    },
  },
};
const view = () => VIEWS[state.info.kind];

// Sentences as an ordered list; text only (textContent), never markup.
function renderSentences(list, texts, extra) {
  list.replaceChildren(...texts.map((t, i) => {
    const item = cell("li", t || "(the empty sentence)");
    if (extra) item.append(cell("span", extra[i], "meta"));
    return item;
  }));
  list.hidden = false;
}

// A SMILES run's strings are molecules: each comes with `valid` (RDKit parses it) and `drawing` (an SVG data: URI
// from our server, shown as an <img>, never inserted as markup; null when invalid). Invalid strings stay text, marked.
const emptyText = () => (state.info.molecules ? "(the empty string)" : "(the empty sentence)");
const SVG_URI = "data:image/svg+xml;base64,";

function moleculePicture(text, molecule, size) {
  if (molecule.drawing && molecule.drawing.startsWith(SVG_URI)) {
    const img = new Image();
    img.className = `molecule ${size}`;
    img.alt = `the molecule ${text}`;
    img.src = molecule.drawing;
    return img;
  }
  const why = molecule.valid ? "valid, but RDKit could not draw it" : "not a valid molecule: RDKit cannot parse it";
  return cell("div", why, `molecule ${size} undrawn`);
}

// The drawing of one decoded or typed string under its text (the text marked when invalid).
function showDrawing(textBox, drawBox, out) {
  textBox.classList.toggle("invalid", !out.valid);
  drawBox.replaceChildren(moleculePicture(out.text, out, "large"));
  drawBox.hidden = false;
}

// Molecules as a grid of small drawings, each captioned by a name (a step, a distance) and its SMILES.
function moleculeCard(text, molecule, name, size = "small") {
  const figure = cell("figure", "", molecule.valid ? "card" : "card invalid");
  const caption = document.createElement("figcaption");
  if (name) caption.append(cell("span", name, "name"));
  caption.append(cell("code", text || "(empty)", "smiles"));
  if (!molecule.valid) caption.append(cell("span", "invalid", "badge"));
  figure.append(moleculePicture(text, molecule, size), caption);
  return figure;
}

function renderMolecules(box, texts, molecules, names) {
  box.replaceChildren(...texts.map((t, i) => moleculeCard(t, molecules[i], names && names[i])));
  box.hidden = false;
}

const stepNames = (count) => Array.from({ length: count }, (_, i) => `t = ${(i / (count - 1)).toFixed(2)}`);

// How a sentence is decoded (a sequence run): greedy, or beam search with the chosen number of beams.
function decodingOptions() {
  if (!state.info.decodings) return {};
  const method = $("decoding").value;
  return method === "beam" ? { decoding: method, beam_width: Math.max(1, Math.min(state.info.max_beam_width, +$("beam-width").value || 1)) } : { decoding: method };
}

// A table's values: whole numbers as they are, others to 4 significant digits; categories by name.
function formatValue(v) {
  if (typeof v !== "number") return String(v);
  return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4));
}

function cell(tag, text, cls) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (cls) element.className = cls;
  return element;
}

// Rows of a table, one per line, the first column naming each line ("test row", "step 3", ...).
function renderRows(box, rows, names) {
  const columns = state.info.columns.map((c) => c.name);
  const table = document.createElement("table");
  const head = document.createElement("tr");
  head.append(cell("th", ""), ...columns.map((c) => cell("th", c)));
  table.append(head);
  rows.forEach((row, i) => {
    const tr = document.createElement("tr");
    tr.append(cell("th", names[i]), ...columns.map((c) => cell("td", formatValue(row[c]))));
    table.append(tr);
  });
  box.replaceChildren(table);
  box.hidden = false;
}

// A decoded row: each column's value, and a bar: where a real or count value lies between the test split's min
// and max (a red marker at the end: beyond them), or the probability of each category (the shown one darker).
const MAX_CATEGORIES_SHOWN = 12;
function renderBars(box, row, bars) {
  const table = document.createElement("table");
  bars.forEach((bar, j) => {
    const column = state.info.columns[j], tr = document.createElement("tr");
    tr.append(cell("th", bar.name), cell("td", formatValue(row[bar.name]), "value"));
    const td = cell("td", "", "bar");
    if (bar.probabilities) td.append(categoryBars(column, bar.probabilities, row[bar.name]));
    else if (bar.position !== undefined) td.append(positionBar(bar));
    tr.append(td);
    table.append(tr);
  });
  box.replaceChildren(table);
  box.hidden = false;
}

function positionBar(bar) {
  const wrap = document.createElement("div"), track = cell("div", "", "track"), marker = cell("span", "", "marker");
  const at = Math.min(1, Math.max(0, bar.position));
  marker.style.left = `${(100 * at).toFixed(1)}%`;
  if (at !== bar.position) { marker.classList.add("beyond"); wrap.title = "beyond the test split's range"; }
  track.append(marker);
  const ends = cell("div", "", "ends");
  ends.append(cell("span", formatValue(bar.low)), cell("span", formatValue(bar.high)));
  wrap.append(track, ends);
  return wrap;
}

function categoryBars(column, probabilities, shown) {
  const wrap = document.createElement("div");
  let order = probabilities.map((p, k) => k);
  if (order.length > MAX_CATEGORIES_SHOWN) order = order.sort((a, b) => probabilities[b] - probabilities[a]).slice(0, MAX_CATEGORIES_SHOWN);
  for (const k of order) {
    const line = cell("div", "", "category"), fill = cell("span", "", "fill");
    fill.style.width = `${(100 * probabilities[k]).toFixed(1)}%`;
    if (String(column.categories[k]) === String(shown)) line.classList.add("shown");
    const bar = cell("span", "", "prob");
    bar.append(fill);
    line.append(cell("span", column.categories[k], "name"), bar, cell("span", probabilities[k].toFixed(2), "p"));
    wrap.append(line);
  }
  if (probabilities.length > order.length) wrap.append(cell("div", `${probabilities.length - order.length} less probable categories not shown`, "meta"));
  return wrap;
}

// Sliders: one per latent dimension, by decreasing KL; a decode is in flight at most once, the latest z follows.
let decoding = false, pending = false;
async function decode(extra) {
  if (decoding) { pending = true; return; }
  decoding = true;
  try {
    const out = await api("/api/decode", withLabel({ z: state.z, ...decodingOptions(), ...(extra || {}) }));
    view().decoded(out);
    $("decode-ms").textContent = `decoded in ${out.ms.toFixed(1)} ms (server)`;
  } finally {
    decoding = false;
    if (pending) { pending = false; decode(); }
  }
}

function buildSliders(latent) {
  const box = $("sliders");
  box.innerHTML = "";
  const what = latent.score_kind === "kl" ? "KL (nats)" : "variance of the posterior means";
  const follows = {
    table: "The decoded row (each column's point value; bars: where it lies between the test split's min and max, or each category's probability)",
    sequence: state.info.molecules
      ? "The decoded SMILES string (greedy, or the best of a beam search; hover it for its log p(x|z)) and its drawing"
      : "The decoded sentence (greedy, or the best of a beam search; hover it for its log p(x|z))",
  }[state.info.kind] || "The image";
  $("sliders-hint").textContent = `${latent.dim} dimensions, by decreasing ${what}; greyed: collapsed (carry no information about x). ${follows} updates as a slider moves.`;
  const header = document.createElement("div");
  header.className = "slider header";
  for (const text of ["", "", "z", latent.score_kind === "kl" ? "KL" : "var"]) header.append(Object.assign(document.createElement("span"), { textContent: text }));
  box.append(header);
  for (const d of latent.dims) {
    const row = document.createElement("div");
    row.className = "slider" + (d.collapsed ? " collapsed" : "");
    row.title = `z${d.dim}: ${what} ${d.score.toFixed(3)}${d.collapsed ? " (collapsed)" : ""}`;
    const name = document.createElement("span");
    name.textContent = `z${d.dim}`;
    const input = document.createElement("input");
    // Ends on whole hundredths, so that the steps of 0.01 land on round values.
    Object.assign(input, { type: "range", min: Math.floor(d.low * 100) / 100, max: Math.ceil(d.high * 100) / 100, step: 0.01, value: 0 });
    input.id = `z${d.dim}`;
    input.dataset.dim = d.dim;
    const value = document.createElement("output");
    value.id = `z${d.dim}-value`;
    value.textContent = formatZ(0);
    input.addEventListener("input", () => { state.z[d.dim] = parseFloat(input.value); value.textContent = formatZ(state.z[d.dim]); decode(); });
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = d.score.toFixed(2);
    row.append(name, input, value, score);
    box.append(row);
  }
}

const formatZ = (v) => (v < 0 ? "" : "+") + v.toFixed(2);

// The decoded image follows z exactly; the sliders and their numbers show it to two decimals.
function setZ(z) {
  state.z = z.slice();
  for (const input of document.querySelectorAll("#sliders input")) {
    const v = state.z[+input.dataset.dim];
    input.value = v.toFixed(2);
    $(`${input.id}-value`).textContent = formatZ(v);
  }
  decode();
}

// The map: test-set posterior means on a plane, over a grid of decoded images; a click loads the nearest point.
// The plane fills the canvas less a margin for its axes: ticks at round values, each axis named.
const mapImage = new Image();
const MARGIN = { left: 46, top: 8, right: 10, bottom: 40 };

function plotArea(canvas) {
  return { x: MARGIN.left, y: MARGIN.top, w: canvas.width - MARGIN.left - MARGIN.right, h: canvas.height - MARGIN.top - MARGIN.bottom };
}

function toCanvas(u, v, m, area) {
  const [u0, u1, v0, v1] = m.extent;
  return [area.x + ((u - u0) / (u1 - u0)) * area.w, area.y + ((v1 - v) / (v1 - v0)) * area.h];
}

// Round tick values in [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count` of them.
function niceTicks(lo, hi, count = 5) {
  const raw = (hi - lo) / count, power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw);
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks = [];
  for (let k = Math.ceil(lo / step); k * step <= hi; k++) ticks.push(+(k * step).toFixed(digits));
  return ticks.map((t) => ({ value: t, label: t.toFixed(digits) }));
}

function drawAxes(ctx, m, area) {
  const [u0, u1, v0, v1] = m.extent;
  ctx.strokeStyle = "#555";
  ctx.fillStyle = "#333";
  ctx.lineWidth = 1;
  ctx.strokeRect(area.x, area.y, area.w, area.h);
  ctx.font = "12px system-ui, sans-serif";
  const u = niceTicks(u0, u1), v = niceTicks(v0, v1);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of u) {
    const [x] = toCanvas(t.value, v0, m, area);
    ctx.beginPath(); ctx.moveTo(x, area.y + area.h); ctx.lineTo(x, area.y + area.h + 5); ctx.stroke();
    ctx.fillText(t.label, x, area.y + area.h + 7);
  }
  ctx.fillText(m.axes[0], area.x + area.w / 2, area.y + area.h + 23);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of v) {
    const [, y] = toCanvas(u0, t.value, m, area);
    ctx.beginPath(); ctx.moveTo(area.x - 5, y); ctx.lineTo(area.x, y); ctx.stroke();
    ctx.fillText(t.label, area.x - 7, y);
  }
  ctx.save();
  ctx.translate(11, area.y + area.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText(m.axes[1], 0, 0);
  ctx.restore();
  state.mapTicks = { u: u.map((t) => t.label), v: v.map((t) => t.label) };
}

function drawMap(highlight) {
  const canvas = $("map"), ctx = canvas.getContext("2d"), m = state.map, area = plotArea(canvas);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.x, area.y, area.w, area.h);
  ctx.clip();  // points beyond the extent (the 1st to 99th percentiles) would spill onto the axes
  ctx.globalAlpha = 0.55;
  if (m.grid && mapImage.complete && mapImage.naturalWidth) ctx.drawImage(mapImage, area.x, area.y, area.w, area.h);
  ctx.globalAlpha = 1;
  m.points.forEach(([u, v], i) => {
    const [x, y] = toCanvas(u, v, m, area);
    ctx.fillStyle = m.labels ? COLOURS[m.labels[i] % COLOURS.length] : "#1f77b4";
    ctx.beginPath();
    ctx.arc(x, y, i === highlight ? 6 : 2.2, 0, 2 * Math.PI);
    ctx.fill();
    if (i === highlight) { ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.stroke(); }
  });
  ctx.restore();
  drawAxes(ctx, m, area);
}

async function loadMap() {
  const m = await api(state.info.num_classes ? `/api/map?label=${state.label}` : "/api/map");
  state.map = m;
  const word = state.info.example_word;
  const under = m.grid ? `; under them, images decoded on a ${m.grid_size}x${m.grid_size} grid` : "";
  const shown = m.grid ? "" : ", its reconstruction";
  $("map-hint").textContent = `${m.points.length} test ${word}s at their posterior means on ${m.name}${under}. Click a point to see its ${word}${shown} and load its z.`;
  if (m.grid) {
    mapImage.onload = () => drawMap();
    mapImage.src = m.grid;
  } else {
    drawMap();
  }
  const legend = $("legend");
  legend.innerHTML = "";
  if (m.labels) {
    [...new Set(m.labels)].sort((a, b) => a - b).forEach((k) => {
      const item = document.createElement("span"), dot = document.createElement("i");
      dot.style.background = COLOURS[k % COLOURS.length];
      item.append(dot, labelName(k));
      legend.append(item);
    });
  }
}

async function loadTest(index) {
  const out = await api("/api/test", { index });
  if (state.info.num_classes && out.label !== null) { state.label = out.label; $("label").value = out.label; }
  return out;
}

// A class label by name where the table names its label column's categories, else its number.
function labelName(k) {
  const column = state.info.label_column;
  return column ? `${column.categories[k]}` : String(k);
}

function mapClick(event) {
  const canvas = $("map"), rect = canvas.getBoundingClientRect(), m = state.map, area = plotArea(canvas);
  const px = (event.clientX - rect.left) * (canvas.width / rect.width), py = (event.clientY - rect.top) * (canvas.height / rect.height);
  if (px < area.x || px > area.x + area.w || py < area.y || py > area.y + area.h) return;  // on the axes
  let best = -1, bestDist = Infinity;
  m.points.forEach(([u, v], i) => {
    const [x, y] = toCanvas(u, v, m, area);
    const dist = (x - px) ** 2 + (y - py) ** 2;
    if (dist < bestDist) { bestDist = dist; best = i; }
  });
  if (best < 0) return;
  drawMap(best);
  loadTest(best).then((out) => {
    const labelled = state.info.label_column ? ` (${state.info.label_column.name} ${labelName(out.label)})` : ` (label ${out.label})`;
    $("clicked").textContent = `test ${state.info.example_word} ${best}` + (out.label !== null ? labelled : "");
    view().clicked(out);
    setZ(out.z);
  });
}

async function interpolate() {
  if (state.info.text_tools) {
    const out = await api("/api/interpolate_text", {
      a: $("interp-text-a").value, b: $("interp-text-b").value, steps: +$("interp-steps").value, ...decodingOptions(),
    });
    if (state.info.molecules) {
      renderMolecules($("interp-end-molecules"), out.ends, out.end_molecules, ["from (as the model reads it)", "to (as the model reads it)"]);
      $("interp-path-note").textContent = `decoded at ${out.steps} points on the line between their posterior means (t = 0 at the first, 1 at the second):`;
      $("interp-path-note").hidden = false;
      renderMolecules($("interp-molecules"), out.texts, out.molecules, stepNames(out.texts.length));
    } else {
      renderSentences($("interp-texts"), out.texts, stepNames(out.texts.length).map((t) => `  ${t}`));
    }
    $("interp-ends").textContent = `as the model reads them: from "${out.ends[0]}" to "${out.ends[1]}"`;
    $("interp-ends").hidden = state.info.molecules;  // a SMILES run draws the ends instead
    $("interp-empty").hidden = true;
    return;
  }
  const out = await api("/api/interpolate", {
    a: +$("interp-a").value, b: +$("interp-b").value, steps: +$("interp-steps").value, mode: $("interp-mode").value,
  });
  view().path(out);
}

// Your sentence: tokenized with the run's tokenizer, encoded; its decoding and nearest training sentences.
async function encodeText() {
  const count = Math.max(1, Math.min(state.info.max_neighbours, +$("own-neighbours-count").value || 5));
  const out = await api("/api/text", { text: $("own-text").value, neighbours: count, ...decodingOptions() });
  $("text-result").hidden = false;
  $("text-empty").hidden = true;
  const seen = $("text-seen");
  seen.replaceChildren(...out.tokens.flatMap((t, i) => {
    const span = cell("span", t.as, t.unk ? "unk" : "");
    if (t.unk) span.title = `"${t.text}" is not in the vocabulary`;
    return i && !state.info.molecules ? [document.createTextNode(" "), span] : [span];  // SMILES: no spaces
  }));
  const unknown = out.tokens.filter((t) => t.unk).map((t) => t.text);
  $("text-unknown").textContent = unknown.length ? `${unknown.length} of ${out.tokens.length} tokens outside the vocabulary, read as <unk>: ${unknown.join(", ")}` : `${out.tokens.length} tokens, all in the vocabulary`;
  $("text-recon").textContent = out.reconstruction.text || emptyText();
  const word = state.info.molecules ? "molecule" : "sentence";
  const distances = out.neighbours.map((n) => `${n.distance.toFixed(3)} (training ${word} ${n.index})`);
  if (state.info.molecules) {
    $("text-seen").classList.toggle("invalid", !out.seen_molecule.valid);
    $("text-recon").classList.toggle("invalid", !out.reconstruction.valid);
    $("text-molecules").replaceChildren(
      moleculeCard(out.seen, out.seen_molecule, "as the model reads it", "large"),
      moleculeCard(out.reconstruction.text, out.reconstruction, "decoded at its posterior mean", "large"),
    );
    $("text-molecules").hidden = false;
    $("text-neighbours").hidden = true;  // drawn instead of listed
    renderMolecules($("text-neighbour-molecules"), out.neighbours.map((n) => n.text), out.neighbours, distances);
  } else {
    renderSentences($("text-neighbours"), out.neighbours.map((n) => n.text), distances.map((d) => `  ${d}`));
  }
  state.textZ = out.z;
}

// Your image: a drawing canvas or an uploaded file, sent as a PNG data: URI.
let drawing = false, uploaded = null;
function setupDrawing() {
  const canvas = $("draw"), ctx = canvas.getContext("2d");
  const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height); uploaded = null; };
  clear();
  const at = (e) => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; };
  canvas.addEventListener("pointerdown", (e) => { drawing = true; uploaded = null; ctx.beginPath(); ctx.moveTo(...at(e)); });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    Object.assign(ctx, { strokeStyle: "#fff", lineWidth: 16, lineCap: "round", lineJoin: "round" });
    ctx.lineTo(...at(e));
    ctx.stroke();
  });
  window.addEventListener("pointerup", () => { drawing = false; });
  $("draw-clear").addEventListener("click", clear);
  $("upload").addEventListener("change", () => {
    const file = $("upload").files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      uploaded = reader.result;
      const image = new Image();
      image.onload = () => { clear(); uploaded = reader.result; ctx.drawImage(image, 0, 0, canvas.width, canvas.height); };
      image.src = reader.result;
    };
    reader.readAsDataURL(file);
  });
}

async function encodeOwn() {
  const image = uploaded || $("draw").toDataURL("image/png");
  state.seed += 1;
  const out = await api("/api/image", withLabel({ image, invert: $("invert").checked, draws: 8, seed: state.seed }));
  $("own-result").hidden = false;
  $("own-empty").hidden = true;
  show($("own-input"), out.input);
  show($("own-recon"), out.reconstruction);
  show($("own-neighbours"), out.neighbours);
  $("own-meta").textContent = `nearest training images ${out.neighbour_indices.join(", ")} (pixel distances ${out.neighbour_distances.join(", ")})`;
  if (out.draws) show($("own-draws"), out.draws);
  $("own-draws-row").hidden = !out.draws;
  state.ownZ = out.z || null;
  $("own-load").hidden = !out.z;
  if (out.codes) showCodes(out.codes, out.reconstruction, out.input);
}

// A VQ-VAE's code map: click a cell to set its code (or to mask it), resample the masked cells from the prior.
function showCodes(codes, decoded, original) {
  state.codes = codes;
  state.mask = codes.map((row) => row.map(() => 0));
  if (original) show($("codes-original"), original);
  show($("codes-decoded"), decoded);
  renderCodes();
}

function renderCodes() {
  const table = $("code-grid");
  table.innerHTML = "";
  state.codes.forEach((row, i) => {
    const tr = document.createElement("tr");
    row.forEach((code, j) => {
      const td = document.createElement("td");
      td.textContent = code;
      td.id = `code-${i}-${j}`;
      if (state.mask[i][j]) td.className = "masked";
      td.addEventListener("click", () => codeClick(i, j));
      tr.append(td);
    });
    table.append(tr);
  });
}

async function codeClick(i, j) {
  const tool = document.querySelector("input[name=code-tool]:checked").value;
  if (tool === "mask") { state.mask[i][j] = 1 - state.mask[i][j]; renderCodes(); return; }
  state.codes[i][j] = Math.max(0, Math.min(state.info.codes.num_codes - 1, +$("code-value").value));
  renderCodes();
  const out = await api("/api/decode_codes", { codes: state.codes });
  show($("codes-decoded"), out.image);
}

async function loadCodes() {
  const out = await api("/api/test", { index: +$("codes-index").value });
  showCodes(out.codes, out.reconstruction, out.image);
}

async function resampleCodes() {
  state.seed += 1;
  const out = await api("/api/resample_codes", { codes: state.codes, mask: state.mask, seed: state.seed });
  state.codes = out.codes;
  show($("codes-decoded"), out.image);
  renderCodes();
  state.resamples += 1;
}

// A SMILES run's panels speak of molecules: typed as SMILES, decoded, drawn with RDKit.
function labelMolecules(info) {
  for (const word of document.querySelectorAll(".text-word")) word.textContent = "molecule";
  for (const word of document.querySelectorAll(".text-unit")) word.textContent = "tokens";
  $("own-text").placeholder = "type a molecule as SMILES, e.g. CC(=O)Oc1ccccc1C(=O)O";
  $("text-hint").textContent = `A SMILES string read with the run's smiles tokenizer (at most ${info.max_length - 1} tokens; tokens outside its vocabulary read as <unk>), encoded and decoded back; each molecule drawn with RDKit, invalid strings shown as text. Nearest neighbours among ${info.num_train} training molecules.`;
  $("interp-hint").textContent = "A homotopy (Bowman et al. 2016): molecules decoded on the straight line between the posterior means of two SMILES strings, each drawn with RDKit (strings RDKit cannot parse are shown as text, marked invalid). Type any two; they start as test molecules 0 and 1.";
  $("interp-empty").textContent = "Press interpolate: the molecules decoded along the path between the two appear here.";
}

async function main() {
  const info = await api("/api/info");
  state.info = info;
  document.title = `vaekit explore: ${info.run}`;
  $("run-name").textContent = info.run;
  const strings = info.molecules ? "SMILES strings" : "sentences";
  const shape = { table: `(${info.columns && info.columns.length} columns)`, sequence: `(${strings} of up to ${info.max_length} tokens, ${info.vocab_size}-token ${info.tokenizer} vocabulary)` }[info.kind] || info.data_shape.join("x");
  $("run-info").textContent = `${info.model_type} on ${info.data} ${shape}; capabilities: ${info.capabilities.join(", ") || "none"}; ${info.num_test} test ${info.example_word}s.` + (info.prior_note ? ` Note: ${info.prior_note}` : "");
  for (const word of document.querySelectorAll(".word")) word.textContent = info.example_word;
  document.body.classList.add(`kind-${info.kind}`);
  if (info.molecules) document.body.classList.add("mol-run");
  const caps = new Set(info.capabilities);
  if (info.num_classes) {
    const select = $("label");
    for (let k = 0; k < info.num_classes; k++) select.add(new Option(labelName(k), String(k)));
    $("label-picker").hidden = false;
    select.addEventListener("change", () => { state.label = +select.value; decode(); loadMap(); });
  }
  if (caps.has("latent_vector")) {
    for (const id of ["sliders-panel", "map-panel", "interp-panel"]) $(id).hidden = false;
    for (const id of ["interp-a", "interp-b"]) $(id).max = info.num_test - 1;
    state.z = new Array(info.latent.dim).fill(0);
    buildSliders(info.latent);
    $("zero-z").addEventListener("click", () => setZ(new Array(info.latent.dim).fill(0)));
    $("map").addEventListener("click", mapClick);
    $("interp-go").addEventListener("click", interpolate);
    $("own-load").addEventListener("click", () => state.ownZ && setZ(state.ownZ));
    if (caps.has("layers")) {
      $("resample-lower").hidden = false;
      $("sliders-hint").textContent += ` Sliders: the top layer (${info.layer_dims[info.layer_dims.length - 1]} of layers ${info.layer_dims.join(", ")}, bottom first); the lower layers at their prior means, or redrawn.`;
      $("resample-lower").addEventListener("click", () => { state.seed += 1; decode({ resample: state.seed }); });
    }
    decode();
    loadMap();
  }
  if (caps.has("codes")) {
    $("codes-panel").hidden = false;
    $("codes-index").max = info.num_test - 1;
    $("code-value").max = info.codes.num_codes - 1;
    $("codes-hint").textContent = `${info.codes.shape.join("x")} codes from a codebook of ${info.codes.num_codes}; prior: ${info.codes.prior}` + (info.codes.prior === "pixelcnn" ? " (masked cells redrawn in raster order given the codes above and to the left)." : " (no trained prior: masked cells are drawn uniformly).");
    $("codes-load").addEventListener("click", loadCodes);
    $("codes-resample").addEventListener("click", resampleCodes);
    $("codes-unmask").addEventListener("click", () => { state.mask = state.codes.map((r) => r.map(() => 0)); renderCodes(); });
    loadCodes();
  }
  if (info.decodings && caps.has("latent_vector")) {
    $("decoding-picker").hidden = false;
    $("beam-width").max = info.max_beam_width;
    const changed = () => { $("beam-width-label").hidden = $("decoding").value !== "beam"; decode(); };
    $("decoding").addEventListener("change", changed);
    $("beam-width").addEventListener("change", () => decode());
  }
  if (info.text_tools && caps.has("latent_vector")) {
    $("text-panel").hidden = false;
    $("text-hint").textContent = `Tokenized with the run's ${info.tokenizer} tokenizer${info.lowercase ? " (lowercased)" : ""}: at most ${info.max_length - 1} tokens. Nearest neighbours among ${info.num_train} training sentences.`;
    $("text-go").addEventListener("click", encodeText);
    $("own-text").addEventListener("keydown", (e) => { if (e.key === "Enter") encodeText(); });
    $("text-load").addEventListener("click", () => state.textZ && setZ(state.textZ));
    for (const id of ["interp-a-label", "interp-b-label", "interp-mode-label"]) $(id).hidden = true;
    for (const id of ["interp-text-a-label", "interp-text-b-label"]) $(id).hidden = false;
    $("interp-steps").value = 8;
    $("interp-hint").textContent = "A homotopy (Bowman et al. 2016): sentences decoded on the straight line between the posterior means of two sentences. Type any two; they start as test sentences 0 and 1.";
    $("interp-empty").textContent = "Press interpolate: the decoded path between the two sentences appears here.";
    if (info.molecules) labelMolecules(info);
    const [a, b] = await Promise.all([0, Math.min(1, info.num_test - 1)].map((index) => api("/api/test", { index })));
    $("interp-text-a").value = a.text;
    $("interp-text-b").value = b.text;
  }
  if (info.kind === "sequence" && !caps.has("latent_vector")) {
    $("run-info").textContent += ` A ${info.model_type} has no latent z: nothing to slide, map, encode or interpolate (its report shows its samples and its exact NLL).`;
  }
  if (info.image_tools) {
    $("own-panel").hidden = false;
    setupDrawing();
    $("own-go").addEventListener("click", encodeOwn);
  }
  document.body.dataset.ready = "1";
}

main().catch((e) => showError(`could not load the run: ${e.message}`));
