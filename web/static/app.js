// The demo page: draw, predict, and look inside every layer.
import { Pad } from "./draw.js";
import { paint } from "./colormap.js";
import { getJSON, decodeBase64, drawCurves, drawConfusion } from "./panel.js";

const $ = (id) => document.getElementById(id);
const state = {
  models: [], model: null, answer: null, values: [], input: null,
  detail: null, inflight: false, dirty: false, confusion: null, evaluation: null, updates: 0,
};
window.convnetState = state; // for tests and the curious

const pad = new Pad($("pad"), () => scheduleUpdate());

// ---------- requests ----------

function scheduleUpdate() {
  if (!state.model) return;
  if (state.inflight) { state.dirty = true; return; }
  update();
}

async function update() {
  state.inflight = true;
  state.dirty = false;
  try {
    const m = state.model;
    const params = new URLSearchParams({ model: m.name, k: Math.min(5, m.classes.length) });
    if ($("saliency").checked) params.set("saliency", "1");
    if (state.detail) {
      const full = [state.detail.layer - 1, state.detail.layer];
      params.set("full", full.join(","));
    }
    const blob = await pad.blob();
    const r = await fetch("/api/activations?" + params, { method: "POST", headers: { "Content-Type": "image/png" }, body: blob });
    const ans = await r.json();
    if (!r.ok) throw new Error(ans.error || r.statusText);
    if (state.model !== m) return;
    state.answer = ans;
    state.input = decodeLayer(ans.input);
    state.values = ans.layers.map(decodeLayer);
    state.updates++;
    render();
  } catch (err) {
    $("predhint").textContent = "Error: " + err.message;
  } finally {
    state.inflight = false;
    if (state.dirty) setTimeout(scheduleUpdate, 0);
  }
}

function decodeLayer(l) {
  const bytes = decodeBase64(l.data);
  if (l.encoding === "f32") return { ...l, full: true, v: new Float32Array(bytes.buffer) };
  const v = new Float32Array(bytes.length);
  const s = (l.max - l.min) / 255;
  for (let i = 0; i < v.length; i++) v[i] = l.min + bytes[i] * s;
  return { ...l, full: false, v };
}

// ---------- models ----------

async function init() {
  const { models } = await getJSON("/api/models");
  state.models = models;
  const sel = $("model");
  for (const m of models) sel.add(new Option(`${m.name} (${m.classes.length} classes, ${m.input_shape.slice(0, 2).join("×")})`, m.name));
  sel.parentElement.hidden = models.length < 2;
  if (!models.length) {
    const n = $("nomodel");
    n.hidden = false;
    n.innerHTML = "No model is served. Train one with <code>convnet train</code>, then run <code>convnet serve --model FILE</code>.";
    return;
  }
  sel.addEventListener("change", () => loadModel(sel.value));
  const wanted = new URLSearchParams(location.search).get("model");
  loadModel(models.some((m) => m.name === wanted) ? wanted : models[0].name);
}

async function loadModel(name) {
  const m = state.models.find((x) => x.name === name);
  state.model = m;
  state.answer = null;
  state.detail = null;
  $("detail").hidden = true;
  $("model").value = name;
  const [h, w] = m.input_shape;
  pad.width = Math.round((280 / w) * 2.6);
  applyBrush();
  const letters = m.classes.some((c) => c.glyph);
  $("drawhint").textContent = letters
    ? "Write one letter, upright and large, filling most of the square."
    : "Write one character, large and centred.";
  $("seeshint").textContent = `Your drawing shrunk to ${h}×${w} pixels: all the network gets is these ${h * w * m.input_shape[2]} numbers.`;
  for (const id of ["input", "salmap"]) { $(id).width = w; $(id).height = h; }
  buildLayers(m);
  $("summary").textContent = m.summary || "(no summary)";
  loadPanel(m);
  pad.clear();
}

async function loadPanel(m) {
  state.evaluation = null;
  $("samples").innerHTML = "";
  let history = null;
  if (m.has_history) history = await getJSON(`/api/models/${m.name}/history`).catch(() => null);
  drawCurves($("curves"), history);
  $("curvehint").textContent = history ? "Solid: training set, dashed: validation set. The gap between them shows overfitting." : "";
  if (m.has_evaluation) state.evaluation = await getJSON(`/api/models/${m.name}/evaluation`).catch(() => null);
  const ev = state.evaluation;
  $("acc").textContent = ev ? `test accuracy ${(ev.accuracy * 100).toFixed(1)}% on ${ev.count} images` : "";
  state.confusion = drawConfusion($("confusion"), ev, m.classes);
  $("confhint").hidden = !ev;
}

// ---------- layers ----------

const explain = {
  Conv2D: (c) => `${c.filters} filters of ${size(c.kernel_size)} slide over the previous maps; each tile is one filter's response${act(c)}.`,
  MaxPooling2D: (c) => `Keeps the largest value of each ${size(c.pool_size)} window: maps shrink, strong responses stay.`,
  AveragePooling2D: (c) => `Averages each ${size(c.pool_size)} window: maps shrink.`,
  GlobalAveragePooling2D: () => "Averages each map down to a single number.",
  BatchNormalization: () => "Rescales each channel with statistics learned in training.",
  Dropout: () => "Only active during training; at prediction time values pass through unchanged.",
  Flatten: () => "Lays the maps out as one long vector for the dense layers.",
  Dense: (c) => `${c.units} units, each a weighted sum of every input${act(c)}.`,
  Activation: (c) => `Applies ${c.activation} to every value.`,
  ReLU: () => "max(0, x): keeps positive evidence only.",
  Softmax: () => "Turns scores into probabilities that sum to 1.",
};
const size = (k) => (Array.isArray(k) ? k.join("×") : `${k}×${k}`);
const act = (c) => (c.activation && c.activation !== "linear" ? `, then ${c.activation}` : "");

function buildLayers(m) {
  const root = $("layers");
  root.innerHTML = "";
  m.layers.forEach((l, li) => {
    const row = document.createElement("div");
    row.className = "layer";
    row.dataset.layer = li;
    const meta = document.createElement("div");
    meta.className = "meta";
    const ex = explain[l.type] ? explain[l.type](l.config || {}) : "";
    const last = li === m.layers.length - 1;
    meta.innerHTML = `<b>${li + 1}. ${l.name}</b><br><span class="type ${l.type}">${l.type}</span> <span class="shape">${l.output_shape.join(" × ")}</span><p>${last ? "The output: one probability per class. " : ""}${ex}</p>`;
    row.append(meta);
    const body = document.createElement("div");
    body.className = "tiles";
    const shape = l.output_shape;
    if (shape.length === 3) {
      const [h, w, c] = shape;
      const px = Math.max(36, Math.min(72, h * 2.25));
      for (let k = 0; k < c; k++) {
        const cv = document.createElement("canvas");
        cv.width = w;
        cv.height = h;
        cv.className = "tile";
        cv.style.width = px + "px";
        cv.style.height = Math.round((px * h) / w) + "px";
        cv.title = `${l.name}, channel ${k}`;
        cv.dataset.channel = k;
        cv.addEventListener("click", () => openDetail(li, k));
        body.append(cv);
      }
    } else {
      const cv = document.createElement("canvas");
      cv.className = "bars";
      cv.width = 1000;
      cv.height = last ? 140 : 110;
      cv.style.height = cv.height + "px";
      cv.addEventListener("click", (e) => {
        const r = cv.getBoundingClientRect();
        const n = shape[0];
        const g = barGeometry(n, cv.width);
        const unit = Math.floor(((e.clientX - r.left) * (cv.width / r.width) - g.left) / g.step);
        if (unit >= 0 && unit < n) openDetail(li, unit);
      });
      body.append(cv);
    }
    row.append(body);
    root.append(row);
  });
}

function barGeometry(n, W) {
  const left = 4;
  const step = Math.max(1, (W - 8) / n);
  return { left, step, width: Math.max(1, step - (step > 4 ? 1.5 : 0)) };
}

function render() {
  const m = state.model, ans = state.answer;
  renderTop(ans.top, m);
  // The input as the network sees it (raw pixels after resizing).
  const [h, w, c] = m.input_shape;
  const pix = decodeBase64(ans.pixels);
  putGrey($("input"), w, h, (i) => pix[i * c]);
  // Saliency.
  const sal = $("saliency").checked && ans.saliency;
  $("salwrap").hidden = !sal;
  const ov = $("overlay").getContext("2d");
  ov.clearRect(0, 0, 280, 280);
  if (sal) {
    const s = decodeBase64(sal.data);
    const cv = $("salmap");
    const ctx = cv.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < w * h; i++) {
      img.data[i * 4] = 255; img.data[i * 4 + 1] = 40; img.data[i * 4 + 2] = 40; img.data[i * 4 + 3] = Math.min(255, s[i] * 1.6);
    }
    ctx.clearRect(0, 0, w, h);
    ctx.putImageData(img, 0, 0);
    ov.imageSmoothingEnabled = false;
    ov.globalAlpha = 0.75;
    ov.drawImage(cv, 0, 0, 280, 280);
    ov.globalAlpha = 1;
    const cls = m.classes[sal.class];
    $("salclass").textContent = cls.glyph ? `${cls.glyph} (${cls.short})` : cls.name;
  }
  // Every layer.
  const rows = $("layers").children;
  state.values.forEach((l, li) => {
    const row = rows[li];
    if (!row) return;
    if (l.shape.length === 3) renderMaps(row, l);
    else renderBars(row.querySelector("canvas.bars"), l, li === state.values.length - 1);
  });
  if (state.detail) renderDetail();
  $("predhint").textContent = pad.empty() ? "The canvas is empty: the network still has to guess something." : "Probabilities of the five most likely classes.";
}

function putGrey(cv, w, h, f) {
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const g = f(i);
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = g;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function scaleOf(l) {
  const div = l.min < 0;
  const top = Math.max(Math.abs(l.min), Math.abs(l.max)) || 1;
  return { div, top };
}

function renderMaps(row, l) {
  const [h, w, c] = l.shape;
  const { div, top } = scaleOf(l);
  const tiles = row.querySelectorAll("canvas.tile");
  tiles.forEach((cv, k) => {
    const ctx = cv.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) paint(img.data, i, l.v[i * c + k] / top, div);
    ctx.putImageData(img, 0, 0);
  });
}

function renderBars(cv, l, output) {
  const ctx = cv.getContext("2d");
  const W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  const n = l.v.length;
  const { div, top } = scaleOf(l);
  const g = barGeometry(n, W);
  const base = output ? H - 34 : div ? H / 2 : H - 6;
  const span = output ? H - 44 : div ? H / 2 - 6 : H - 12;
  let best = 0;
  for (let i = 0; i < n; i++) if (l.v[i] > l.v[best]) best = i;
  ctx.fillStyle = "#e3e6ee";
  ctx.fillRect(0, base, W, 1);
  for (let i = 0; i < n; i++) {
    const t = output ? l.v[i] : l.v[i] / top;
    const hgt = Math.max(output ? 1 : 0, Math.abs(t) * span);
    ctx.fillStyle = output ? (i === best ? "#f08c00" : "#5c7cfa") : t >= 0 ? "#e8590c" : "#1c7ed6";
    const x = g.left + i * g.step;
    ctx.fillRect(x, t >= 0 ? base - hgt : base, g.width, hgt);
    if (state.detail && state.detail.layer === l.index && state.detail.channel === i) {
      ctx.strokeStyle = "#000";
      ctx.strokeRect(x - 1, 2, g.width + 2, H - 4);
    }
  }
  if (output) {
    ctx.fillStyle = "#374151";
    ctx.textAlign = "center";
    const cls = state.model.classes;
    ctx.font = `${Math.min(22, g.step * 0.7)}px "Noto Naskh Arabic", system-ui`;
    for (let i = 0; i < n; i++) ctx.fillText(cls[i].glyph || (cls[i].short.length <= 3 ? cls[i].short : String(i)), g.left + i * g.step + g.width / 2, H - 8);
    ctx.textAlign = "left";
  }
}

function renderTop(top, m) {
  const ol = $("top");
  ol.innerHTML = "";
  let sum = 0;
  for (const p of top) {
    sum += p.probability;
    const cls = m.classes[p.label];
    const li = document.createElement("li");
    const big = cls.glyph || (cls.short.length <= 2 ? cls.short : "");
    li.innerHTML = `<span class="glyph">${esc(big)}</span><span class="name">${esc(cls.glyph ? cls.short : big ? "" : cls.name)}</span>` +
      `<span class="bar"><span style="width:${(p.probability * 100).toFixed(1)}%"></span></span><span class="pct">${(p.probability * 100).toFixed(1)}%</span>`;
    li.dataset.probability = p.probability;
    ol.append(li);
  }
  ol.dataset.sum = sum;
}

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// ---------- detail view ----------

async function openDetail(li, ch) {
  const m = state.model;
  const l = m.layers[li];
  state.detail = { layer: li, channel: ch, pixel: null, kernel: null };
  document.querySelectorAll(".tile.sel").forEach((t) => t.classList.remove("sel"));
  const tile = document.querySelector(`.layer[data-layer="${li}"] canvas[data-channel="${ch}"]`);
  if (tile) tile.classList.add("sel");
  const d = $("detail");
  d.hidden = false;
  const three = l.output_shape.length === 3;
  $("detailTitle").textContent = `${l.name} · ${three ? "channel" : "unit"} ${ch} of ${l.output_shape[l.output_shape.length - 1]}`;
  $("detailExplain").textContent = (explain[l.type] ? explain[l.type](l.config || {}) + " " : "") +
    (three ? "Click a pixel of the map to see where it looks in the input and how its value is computed." : "");
  $("detailMap").parentElement.hidden = !three;
  $("kernels").innerHTML = "";
  $("calc").innerHTML = "";
  $("kernelBox").hidden = true;
  if (l.params && l.params.some((p) => p.name === "kernel")) {
    try {
      const k = await getJSON(`/api/models/${m.name}/layers/${li}/kernel?channel=${ch}`);
      if (state.detail && state.detail.layer === li && state.detail.channel === ch) {
        state.detail.kernel = k;
        if (k.shape.length === 3) showKernels(k);
      }
    } catch (err) {
      $("calc").textContent = err.message;
    }
  }
  if (three) {
    const [h, w] = l.output_shape;
    state.detail.pixel = [Math.floor(h / 2), Math.floor(w / 2)];
  }
  scheduleUpdate();
}

function showKernels(k) {
  const [kh, kw, cin] = k.shape;
  const box = $("kernels");
  $("kernelBox").hidden = false;
  $("kernelTitle").textContent = `Kernel weights: ${kh}×${kw} for each of the ${cin} input channel${cin > 1 ? "s" : ""}` + (k.bias != null ? `, bias ${k.bias.toFixed(3)}` : "");
  let top = 0;
  for (const v of k.values) top = Math.max(top, Math.abs(v));
  const shown = Math.min(cin, 64);
  for (let i = 0; i < shown; i++) {
    const cell = document.createElement("div");
    cell.className = "kcell";
    const cv = document.createElement("canvas");
    cv.width = kw;
    cv.height = kh;
    cv.className = "kern";
    const ctx = cv.getContext("2d");
    const img = ctx.createImageData(kw, kh);
    for (let p = 0; p < kh * kw; p++) paint(img.data, p, k.values[p * cin + i] / (top || 1), true);
    ctx.putImageData(img, 0, 0);
    cell.append(cv, document.createTextNode(cin > 1 ? `in ${i}` : "weights"));
    box.append(cell);
  }
  if (cin > shown) box.append(document.createTextNode(`… and ${cin - shown} more`));
}

$("detailMap").addEventListener("click", (e) => {
  if (!state.detail) return;
  const l = state.model.layers[state.detail.layer];
  const [h, w] = l.output_shape;
  const r = e.target.getBoundingClientRect();
  state.detail.pixel = [Math.min(h - 1, Math.floor(((e.clientY - r.top) / r.height) * h)), Math.min(w - 1, Math.floor(((e.clientX - r.left) / r.width) * w))];
  renderDetail();
});
$("closeDetail").addEventListener("click", closeDetail);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") closeDetail();
  if ((e.ctrlKey || e.metaKey) && e.key === "z") { e.preventDefault(); pad.undo(); }
});

function closeDetail() {
  state.detail = null;
  $("detail").hidden = true;
  document.querySelectorAll(".tile.sel").forEach((t) => t.classList.remove("sel"));
  $("inputOverlay").getContext("2d").clearRect(0, 0, 160, 160);
  if (state.answer) render();
}

function layerInput(li) {
  return li === 0 ? state.input : state.values[li - 1];
}
function inShape(li) {
  return li === 0 ? state.model.input_shape : state.model.layers[li - 1].output_shape;
}
// windowOf returns the kernel size, stride and top/left padding of a
// convolution or pooling layer, or null for other layers: the geometry the
// server's layers compute with (layer.window in /api/models).
function windowOf(li) {
  const w = state.model.layers[li].window;
  return w ? { k: w.size, s: w.strides, pt: w.pad[0], pl: w.pad[1] } : null;
}

// receptiveField maps an output pixel of layer li back to a box of the input.
function receptiveField(li, y, x) {
  let [y0, y1, x0, x1] = [y, y, x, x];
  for (let L = li; L >= 0; L--) {
    const l = state.model.layers[L];
    const [H, W] = inShape(L);
    if (l.output_shape.length !== 3 || inShape(L).length !== 3) return [0, H - 1, 0, W - 1];
    const win = windowOf(L);
    if (!win) continue;
    y0 = y0 * win.s[0] - win.pt; y1 = y1 * win.s[0] - win.pt + win.k[0] - 1;
    x0 = x0 * win.s[1] - win.pl; x1 = x1 * win.s[1] - win.pl + win.k[1] - 1;
    y0 = Math.max(0, y0); x0 = Math.max(0, x0); y1 = Math.min(H - 1, y1); x1 = Math.min(W - 1, x1);
  }
  return [y0, y1, x0, x1];
}

// activated returns f(z) for the activation of layer li, computed by the
// server with the network's own code, or null while the answer is on its
// way (the detail view is drawn again when it comes).
const activationCache = new Map();
function activated(li, z) {
  const key = `${state.model.name}/${li}/${z}`;
  if (activationCache.has(key)) return activationCache.get(key);
  if (activationCache.size > 1000) activationCache.clear();
  activationCache.set(key, null);
  getJSON(`/api/models/${state.model.name}/layers/${li}/activation?z=${z}`).then(
    (a) => {
      activationCache.set(key, a.values[0]);
      if (state.detail && state.detail.layer === li) renderDetail();
    },
    (err) => {
      activationCache.delete(key);
      $("calc").textContent = err.message;
    },
  );
  return null;
}

// activationLine shows the activation of layer li applied to z: null while
// the value is computed, "" when the layer has no activation function
// (linear) or one that needs the whole layer (softmax).
function activationLine(li, name, z) {
  if (name === "linear") return "";
  if (name === "softmax") return "softmax over all units turns these scores into probabilities<br>";
  const v = activated(li, z);
  return v === null ? null : `${name}(${fmt(z)}) = <b data-v="${v}">${fmt(v)}</b><br>`;
}
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

function renderDetail() {
  const d = state.detail, m = state.model;
  const l = m.layers[d.layer];
  const out = state.values[d.layer];
  if (!out) return;
  const calc = $("calc");
  if (l.output_shape.length !== 3) {
    renderUnit(d, l, out, calc);
    return;
  }
  const [h, w, c] = l.output_shape;
  const cv = $("detailMap");
  cv.width = w; cv.height = h;
  const { div, top } = scaleOf(out);
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) paint(img.data, i, out.v[i * c + d.channel] / top, div);
  ctx.putImageData(img, 0, 0);
  if (!d.pixel) return;
  const [y, x] = d.pixel;
  ctx.strokeStyle = "#20c997";
  ctx.lineWidth = Math.max(0.15, w / 128);
  ctx.strokeRect(x + 0.1, y + 0.1, 0.8, 0.8);
  // Receptive field on the input views.
  const [y0, y1, x0, x1] = receptiveField(d.layer, y, x);
  const [IH, IW] = m.input_shape;
  for (const [id, S] of [["inputOverlay", 160], ["overlay", 280]]) {
    const o = $(id).getContext("2d");
    if (id === "inputOverlay") o.clearRect(0, 0, S, S);
    o.strokeStyle = "#20c997";
    o.lineWidth = 2;
    o.strokeRect((x0 * S) / IW, (y0 * S) / IH, ((x1 - x0 + 1) * S) / IW, ((y1 - y0 + 1) * S) / IH);
  }
  const value = out.v[(y * w + x) * c + d.channel];
  const input = layerInput(d.layer);
  let html = `<h3>Pixel (row ${y}, column ${x}) = ${fmt(value)}</h3><p class="hint">It looks at rows ${y0}–${y1}, columns ${x0}–${x1} of the input (the green box on the left).</p>`;
  const win = windowOf(d.layer);
  if (!input.full || !out.full) {
    html += `<p class="hint">Loading exact values…</p>`;
  } else if (l.type === "Conv2D" && d.kernel) {
    html += convCalc(d, l, input, out, win, y, x);
  } else if (win) {
    html += poolCalc(d, l, input, win, y, x, value);
  } else {
    const [, , ci] = inShape(d.layer);
    html += `<div class="eq">input ${fmt(input.v[(y * w + x) * ci + d.channel])} → ${l.type} → ${fmt(value)}</div>`;
  }
  calc.innerHTML = html;
}

function convCalc(d, l, input, out, win, y, x) {
  const k = d.kernel;
  const [kh, kw, cin] = k.shape;
  const [H, W] = inShape(d.layer);
  const sums = new Float64Array(cin);
  const at = (yy, xx, i) => (yy < 0 || yy >= H || xx < 0 || xx >= W ? 0 : input.v[(yy * W + xx) * cin + i]);
  for (let dy = 0; dy < kh; dy++) for (let dx = 0; dx < kw; dx++) {
    const yy = y * win.s[0] + dy - win.pt, xx = x * win.s[1] + dx - win.pl;
    for (let i = 0; i < cin; i++) sums[i] += at(yy, xx, i) * k.values[(dy * kw + dx) * cin + i];
  }
  let best = 0;
  for (let i = 0; i < cin; i++) if (Math.abs(sums[i]) > Math.abs(sums[best])) best = i;
  const table = (f) => {
    let t = "<table>";
    for (let dy = 0; dy < kh; dy++) {
      t += "<tr>";
      for (let dx = 0; dx < kw; dx++) t += `<td>${fmt(f(dy, dx))}</td>`;
      t += "</tr>";
    }
    return t + "</table>";
  };
  const patch = (dy, dx) => at(y * win.s[0] + dy - win.pt, x * win.s[1] + dx - win.pl, best);
  const weight = (dy, dx) => k.values[(dy * kw + dx) * cin + best];
  let html = `<p>${cin > 1 ? `Input channel ${best} (the largest contribution):` : "The input patch times the kernel, element by element:"}</p>`;
  html += `<div class="mats"><div>patch${table(patch)}</div><span class="op">⊙</span><div>kernel${table(weight)}</div><span class="op">=</span><div>products${table((a, b) => patch(a, b) * weight(a, b))}</div></div>`;
  const total = sums.reduce((a, b) => a + b, 0);
  const bias = k.bias || 0;
  const z = total + bias;
  const actName = (l.config && l.config.activation) || "linear";
  let eq = "";
  if (cin > 1) {
    const parts = [...sums].slice(0, 6).map((s) => fmt(s));
    eq += `sum over ${cin} input channels: ${parts.join(" + ")}${cin > 6 ? " + …" : ""} = ${fmt(total)}<br>`;
  } else eq += `sum of products = ${fmt(total)}<br>`;
  eq += `+ bias ${fmt(bias)} = ${fmt(z)} (pre-activation)<br>`;
  const act = actName === "linear" ? `no activation: <b data-v="${z}">${fmt(z)}</b><br>` : activationLine(d.layer, actName, z);
  if (act === null) return html + `<div class="eq">${eq}${actName}(${fmt(z)}) = …</div>`;
  const nv = out.v[(y * l.output_shape[1] + x) * l.output_shape[2] + d.channel];
  eq += act + `network's value: <b data-v="${nv}">${fmt(nv)}</b>`;
  return html + `<div class="eq">${eq}</div>`;
}

function poolCalc(d, l, input, win, y, x, value) {
  const [H, W, C] = inShape(d.layer);
  const vals = [];
  let t = "<table>";
  for (let dy = 0; dy < win.k[0]; dy++) {
    t += "<tr>";
    for (let dx = 0; dx < win.k[1]; dx++) {
      const yy = y * win.s[0] + dy - win.pt, xx = x * win.s[1] + dx - win.pl;
      const ok = yy >= 0 && yy < H && xx >= 0 && xx < W;
      const v = ok ? input.v[(yy * W + xx) * C + d.channel] : NaN;
      if (ok) vals.push(v);
      t += `<td>${ok ? fmt(v) : "·"}</td>`;
    }
    t += "</tr>";
  }
  t += "</table>";
  const op = l.type.startsWith("Max") ? "max" : "mean";
  const r = op === "max" ? Math.max(...vals) : vals.reduce((a, b) => a + b, 0) / vals.length;
  return `<p>The ${win.k.join("×")} window of the previous layer's channel ${d.channel}:</p>${t}<div class="eq">${op} = <b>${fmt(r)}</b><br>network's value: <b>${fmt(value)}</b></div>`;
}

function renderUnit(d, l, out, calc) {
  const value = out.v[d.channel];
  let html = `<h3>Value ${fmt(value)}</h3>`;
  const k = d.kernel;
  const input = layerInput(d.layer);
  if (k && input && input.full && out.full && k.shape.length === 1) {
    const contrib = [...input.v].map((v, i) => [i, v * k.values[i], v, k.values[i]]).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    const sum = contrib.reduce((a, b) => a + b[1], 0);
    html += `<p>The ${contrib.length} inputs times their weights; the largest contributions:</p><table><tr><td>input</td><td>value</td><td>weight</td><td>product</td></tr>`;
    for (const [i, p, v, wgt] of contrib.slice(0, 8)) html += `<tr><td>#${i}</td><td>${fmt(v)}</td><td>${fmt(wgt)}</td><td>${fmt(p)}</td></tr>`;
    html += "</table>";
    const z = sum + (k.bias || 0);
    const actName = (l.config && l.config.activation) || "linear";
    const act = activationLine(d.layer, actName, z);
    html += `<div class="eq">sum of all ${contrib.length} products = ${fmt(sum)}<br>+ bias ${fmt(k.bias || 0)} = ${fmt(z)} (pre-activation)<br>` +
      (act === null ? `${actName}(${fmt(z)}) = …` : act + `network's value: <b>${fmt(value)}</b>`) + "</div>";
  } else if (k) {
    html += `<p class="hint">Loading exact values…</p>`;
  }
  calc.innerHTML = html;
}

// ---------- confusion samples ----------

$("confusion").addEventListener("click", async (e) => {
  const g = state.confusion;
  if (!g) return;
  const cell = confusionCell(e, g);
  if (!cell) return;
  const m = state.model;
  const ans = await getJSON(`/api/models/${m.name}/evaluation/samples?true=${cell[0]}&pred=${cell[1]}`);
  const box = $("samples");
  box.innerHTML = "";
  const name = (i) => m.classes[i].glyph ? `${m.classes[i].glyph} ${m.classes[i].short}` : m.classes[i].name;
  const head = document.createElement("p");
  head.className = "hint";
  head.style.width = "100%";
  head.textContent = `True ${name(cell[0])}, predicted ${name(cell[1])}: ${ans.count} test image${ans.count === 1 ? "" : "s"}` +
    (ans.samples.length ? (ans.samples.length < ans.count ? `, ${ans.samples.length} stored.` : ".") + " Click one to load it into the canvas." : ", none stored.");
  box.append(head);
  const [h, w, c] = ans.image_shape;
  for (const s of ans.samples) {
    const px = decodeBase64(s.pixels);
    const cv = document.createElement("canvas");
    cv.width = w; cv.height = h;
    cv.className = "sample";
    cv.title = `test image #${s.index}`;
    putGrey(cv, w, h, (i) => px[i * c]);
    cv.addEventListener("click", () => { pad.setImage(px, h, w, c); window.scrollTo({ top: 0, behavior: "smooth" }); });
    box.append(cv);
  }
});

function confusionCell(e, g) {
  const cv = $("confusion");
  const r = cv.getBoundingClientRect();
  const x = (e.clientX - r.left) * (cv.width / r.width), y = (e.clientY - r.top) * (cv.height / r.height);
  const p = Math.floor((x - g.left) / g.cell), t = Math.floor((y - g.top) / g.cell);
  return p >= 0 && p < g.n && t >= 0 && t < g.n ? [t, p] : null;
}

$("confusion").addEventListener("mousemove", (e) => {
  const tip = $("tooltip");
  const g = state.confusion, ev = state.evaluation;
  const cell = g && confusionCell(e, g);
  if (!cell) { tip.hidden = true; return; }
  const cls = state.model.classes;
  tip.hidden = false;
  tip.style.left = e.clientX + 12 + "px";
  tip.style.top = e.clientY + 12 + "px";
  tip.textContent = `true ${cls[cell[0]].name}, predicted ${cls[cell[1]].name}: ${ev.matrix[cell[0]][cell[1]]}`;
});
$("confusion").addEventListener("mouseleave", () => ($("tooltip").hidden = true));

// ---------- tools ----------

function applyBrush() {
  if (!state.model) return;
  pad.width = Math.round((280 / state.model.input_shape[1]) * 2.6 * Number($("brush").value));
}
$("brush").addEventListener("input", applyBrush);
$("undo").addEventListener("click", () => pad.undo());
$("clear").addEventListener("click", () => pad.clear());
$("saliency").addEventListener("change", () => scheduleUpdate());

init().catch((err) => {
  const n = $("nomodel");
  n.hidden = false;
  n.textContent = "Could not load the models: " + err.message;
});
