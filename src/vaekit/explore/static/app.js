// vaekit explore: the page of one run. Talks only to its own server (/api/...); no other origin is contacted.
"use strict";

const $ = (id) => document.getElementById(id);
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const state = { info: null, z: [], label: 0, map: null, ownZ: null, codes: null, mask: null, seed: 1, resamples: 0 };

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

function withLabel(body) {
  if (state.info.num_classes) body.label = state.label;
  return body;
}

// Sliders: one per latent dimension, by decreasing KL; a decode is in flight at most once, the latest z follows.
let decoding = false, pending = false;
async function decode(extra) {
  if (decoding) { pending = true; return; }
  decoding = true;
  try {
    const out = await api("/api/decode", withLabel({ z: state.z, ...(extra || {}) }));
    $("decoded").src = out.image;
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
  $("sliders-hint").textContent = `${latent.dim} dimensions, by decreasing ${what}; greyed: collapsed (carry no information about x). The image updates as a slider moves.`;
  for (const d of latent.dims) {
    const row = document.createElement("div");
    row.className = "slider" + (d.collapsed ? " collapsed" : "");
    row.title = `z${d.dim}: ${what} ${d.score.toFixed(3)}${d.collapsed ? " (collapsed)" : ""}`;
    const name = document.createElement("span");
    name.textContent = `z${d.dim}`;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: d.low, max: d.high, step: 0.01, value: 0 });
    input.id = `z${d.dim}`;
    input.dataset.dim = d.dim;
    input.addEventListener("input", () => { state.z[d.dim] = parseFloat(input.value); decode(); });
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = d.score.toFixed(2);
    row.append(name, input, score);
    box.append(row);
  }
}

function setZ(z) {
  state.z = z.slice();
  for (const input of document.querySelectorAll("#sliders input")) input.value = state.z[+input.dataset.dim];
  decode();
}

// The map: test-set posterior means on a plane, over a grid of decoded images; a click loads the nearest point.
const mapImage = new Image();
function drawMap(highlight) {
  const canvas = $("map"), ctx = canvas.getContext("2d"), m = state.map;
  const [u0, u1, v0, v1] = m.extent;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = 0.55;
  if (mapImage.complete) ctx.drawImage(mapImage, 0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = 1;
  m.points.forEach(([u, v], i) => {
    const x = ((u - u0) / (u1 - u0)) * canvas.width, y = ((v1 - v) / (v1 - v0)) * canvas.height;
    ctx.fillStyle = m.labels ? COLOURS[m.labels[i] % COLOURS.length] : "#1f77b4";
    ctx.beginPath();
    ctx.arc(x, y, i === highlight ? 6 : 2.2, 0, 2 * Math.PI);
    ctx.fill();
    if (i === highlight) { ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.stroke(); }
  });
}

async function loadMap() {
  const m = await api(state.info.num_classes ? `/api/map?label=${state.label}` : "/api/map");
  state.map = m;
  $("map-hint").textContent = `${m.points.length} test images at their posterior means on ${m.name}; under them, images decoded on a ${m.grid_size}x${m.grid_size} grid. Click a point to load its z.`;
  mapImage.onload = () => drawMap();
  mapImage.src = m.grid;
  const legend = $("legend");
  legend.innerHTML = "";
  if (m.labels) {
    [...new Set(m.labels)].sort((a, b) => a - b).forEach((k) => {
      const item = document.createElement("span"), dot = document.createElement("i");
      dot.style.background = COLOURS[k % COLOURS.length];
      item.append(dot, String(k));
      legend.append(item);
    });
  }
}

async function loadTest(index) {
  const out = await api("/api/test", { index });
  if (state.info.num_classes && out.label !== null) { state.label = out.label; $("label").value = out.label; }
  return out;
}

function mapClick(event) {
  const canvas = $("map"), rect = canvas.getBoundingClientRect(), m = state.map;
  const [u0, u1, v0, v1] = m.extent;
  const px = (event.clientX - rect.left) * (canvas.width / rect.width), py = (event.clientY - rect.top) * (canvas.height / rect.height);
  let best = -1, bestDist = Infinity;
  m.points.forEach(([u, v], i) => {
    const x = ((u - u0) / (u1 - u0)) * canvas.width, y = ((v1 - v) / (v1 - v0)) * canvas.height;
    const dist = (x - px) ** 2 + (y - py) ** 2;
    if (dist < bestDist) { bestDist = dist; best = i; }
  });
  if (best < 0) return;
  drawMap(best);
  loadTest(best).then((out) => {
    $("clicked").textContent = `test image ${best}` + (out.label !== null ? ` (label ${out.label})` : "");
    $("clicked-image").src = out.image;
    setZ(out.z);
  });
}

async function interpolate() {
  const out = await api("/api/interpolate", {
    a: +$("interp-a").value, b: +$("interp-b").value, steps: +$("interp-steps").value, mode: $("interp-mode").value,
  });
  $("interp-images").src = out.images;
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
  $("own-input").src = out.input;
  $("own-recon").src = out.reconstruction;
  $("own-neighbours").src = out.neighbours;
  $("own-meta").textContent = `nearest training images ${out.neighbour_indices.join(", ")} (pixel distances ${out.neighbour_distances.join(", ")})`;
  if (out.draws) $("own-draws").src = out.draws;
  $("own-draws-row").hidden = !out.draws;
  state.ownZ = out.z || null;
  $("own-load").hidden = !out.z;
  if (out.codes) showCodes(out.codes, out.reconstruction, out.input);
}

// A VQ-VAE's code map: click a cell to set its code (or to mask it), resample the masked cells from the prior.
function showCodes(codes, decoded, original) {
  state.codes = codes;
  state.mask = codes.map((row) => row.map(() => 0));
  if (original) $("codes-original").src = original;
  $("codes-decoded").src = decoded;
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
  $("codes-decoded").src = out.image;
}

async function loadCodes() {
  const out = await api("/api/test", { index: +$("codes-index").value });
  showCodes(out.codes, out.reconstruction, out.image);
}

async function resampleCodes() {
  state.seed += 1;
  const out = await api("/api/resample_codes", { codes: state.codes, mask: state.mask, seed: state.seed });
  state.codes = out.codes;
  $("codes-decoded").src = out.image;
  renderCodes();
  state.resamples += 1;
}

async function main() {
  const info = await api("/api/info");
  state.info = info;
  document.title = `vaekit explore: ${info.run}`;
  $("run-name").textContent = info.run;
  $("run-info").textContent = `${info.model_type} on ${info.data} ${info.data_shape.join("x")}; capabilities: ${info.capabilities.join(", ") || "none"}; ${info.num_test} test images.` + (info.prior_note ? ` Note: ${info.prior_note}` : "");
  const caps = new Set(info.capabilities);
  if (info.num_classes) {
    const select = $("label");
    for (let k = 0; k < info.num_classes; k++) select.add(new Option(String(k), String(k)));
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
  setupDrawing();
  $("own-go").addEventListener("click", encodeOwn);
  document.body.dataset.ready = "1";
}

main().catch((e) => showError(`could not load the run: ${e.message}`));
