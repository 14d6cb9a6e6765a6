// Section 4, inside the network: the layers folded into blocks (a
// convolution with its normalisation, activation and dropout), each block's
// output as tiles or bars, the branches of a graph model, and painting only
// the blocks on screen.
import { $, state, esc } from "./state.js";
import { paint } from "./colormap.js";
import { channelSource } from "./calc.js";
import { explain, then } from "./explain.js";

// Layers folded into the block of the layer before them, when they take
// only its output and nothing else does.
const foldable = new Set(["BatchNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout", "SpatialDropout2D", "AlphaDropout", "GaussianNoise", "GaussianDropout", "Rescaling", "Normalization", "LayerNormalization", "GroupNormalization", "LayerScale"]);
const maxTiles = 64;

// makeBlocks folds the model's layers into blocks: {index, layers, head, out}.
export function makeBlocks(m) {
  const users = m.layers.map(() => 0);
  m.layers.forEach((l) => l.inbound.forEach((j) => { if (j >= 0) users[j]++; }));
  const blocks = [];
  m.layers.forEach((l, i) => {
    const cur = blocks[blocks.length - 1];
    const chain = cur && foldable.has(l.type) && l.inbound.length === 1 && l.inbound[0] === i - 1 && users[i - 1] === 1;
    if (chain) cur.layers.push(i);
    else blocks.push({ index: blocks.length, layers: [i] });
  });
  for (const b of blocks) {
    b.head = b.layers[0];
    b.out = b.layers[b.layers.length - 1];
    b.open = false;
    b.stale = true;
  }
  return blocks;
}

export const blockOf = (li) => state.blocks.find((b) => b.layers.includes(li));

let observer = null;
let openDetail = () => {};

// buildLayers makes the rows of the model's blocks; onTile(layer, channel)
// opens a detail view.
export function buildLayers(m, onTile) {
  openDetail = onTile;
  const root = $("layers");
  root.querySelectorAll(".block").forEach((el) => el.remove());
  root.classList.toggle("graph", m.graph);
  if (observer) observer.disconnect();
  observer = new IntersectionObserver(onVisibility, { rootMargin: "300px 0px" });
  state.blocks = makeBlocks(m);
  for (const b of state.blocks) {
    const el = document.createElement("div");
    el.className = "block";
    el.dataset.block = b.index;
    el.append(layerRow(m, b.out, b));
    if (b.layers.length > 1) {
      const inner = document.createElement("div");
      inner.className = "inner";
      inner.hidden = true;
      for (const li of b.layers.slice(0, -1)) inner.append(layerRow(m, li, null));
      el.append(inner);
    }
    root.append(el);
    b.el = el;
    b.visible = false;
    observer.observe(el);
  }
  $("networkhint").textContent = state.blocks.length < m.layers.length
    ? `${m.layers.length} layers in ${state.blocks.length} blocks: a block shows its last layer's output; open it for the layers inside.`
    : "";
  requestAnimationFrame(drawEdges);
}

function onVisibility(entries) {
  let missing = false;
  for (const e of entries) {
    const b = state.blocks[Number(e.target.dataset.block)];
    if (!b) continue;
    b.visible = e.isIntersecting;
    if (b.visible && b.stale) missing = renderBlock(b) || missing;
  }
  if (missing) document.dispatchEvent(new Event("convnet:need-layers"));
}

// wantedLayers lists the layers whose outputs the page needs now: every
// layer of the blocks on screen (or near), open or not.
export function wantedLayers() {
  const out = [];
  for (const b of state.blocks) if (b.visible) out.push(...(b.open ? b.layers : [b.out]));
  return out;
}

function layerRow(m, li, b) {
  const l = m.layers[li];
  const row = document.createElement("div");
  row.className = "layer";
  row.dataset.layer = li;
  const meta = document.createElement("div");
  meta.className = "meta";
  const layers = b ? b.layers.map((i) => m.layers[i]) : [l];
  const last = li === m.layers.length - 1;
  const names = layers.map((x) => x.name).join(" · ");
  const types = layers.map((x) => `<span class="type ${x.type}">${x.type}</span>`).join("");
  const ex = layers.map((x, k) => (explain[x.type] ? (k ? then(x) : explain[x.type](x.config || {}, x)) : "")).filter(Boolean).join(" ");
  const head = b ? m.layers[b.head] : l;
  const from = head.inbound.filter((j) => j !== head.index - 1).map((j) => (j < 0 ? "the input" : m.layers[j].name));
  meta.innerHTML = `<b>${esc(names)}</b><br>${types} <span class="shape">${l.output_shape.join(" × ")}</span>` +
    `<p>${last ? "The output: one probability per class. " : ""}${esc(ex)}</p>` +
    (m.graph && from.length ? `<p>Takes ${head.inbound.length > 1 ? merged[head.type] || "" : ""}${esc(head.inbound.map((j) => (j < 0 ? "the input" : m.layers[j].name)).join(" and "))}.</p>` : "");
  if (b && b.layers.length > 1) {
    const open = document.createElement("button");
    open.className = "open";
    open.textContent = `▸ show the ${b.layers.length} layers`;
    open.setAttribute("aria-expanded", "false");
    open.addEventListener("click", () => toggleBlock(b, open));
    meta.append(open);
  }
  row.append(meta);
  const body = document.createElement("div");
  body.className = "tiles";
  const shape = l.output_shape;
  if (shape.length === 3) {
    const [h, w, c] = shape;
    const px = Math.max(36, Math.min(72, h * 2.25));
    const tile = (k) => {
      const cv = document.createElement("canvas");
      cv.width = w;
      cv.height = h;
      cv.className = "tile";
      cv.style.width = px + "px";
      cv.style.height = Math.round((px * h) / w) + "px";
      cv.title = `${l.name}, channel ${k}` + (channelSource(l, k) >= 0 ? `: input channel ${channelSource(l, k)}` : "");
      cv.dataset.channel = k;
      cv.tabIndex = 0;
      cv.setAttribute("role", "button");
      cv.setAttribute("aria-label", `${l.name}, channel ${k}: open its detail`);
      return cv;
    };
    for (let k = 0; k < Math.min(c, maxTiles); k++) body.append(tile(k));
    if (c > maxTiles) {
      const more = document.createElement("button");
      more.className = "more";
      more.textContent = `show all ${c}`;
      more.addEventListener("click", () => {
        for (let k = maxTiles; k < c; k++) body.insertBefore(tile(k), more);
        more.remove();
        paintRow(row);
        drawEdges();
      });
      body.append(more);
    }
    const pick = (e) => {
      const k = e.target.dataset.channel;
      if (k !== undefined) openDetail(li, Number(k));
    };
    body.addEventListener("click", pick);
    body.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(e); } });
  } else {
    const cv = document.createElement("canvas");
    cv.className = "bars";
    cv.width = 1000;
    cv.height = last ? 140 : 110;
    cv.style.height = cv.height + "px";
    cv.tabIndex = 0;
    cv.setAttribute("aria-label", `${l.name}: ${shape[0]} units; Enter opens the largest`);
    cv.addEventListener("click", (e) => {
      const r = cv.getBoundingClientRect();
      const g = barGeometry(shape[0], cv.width);
      const unit = Math.floor(((e.clientX - r.left) * (cv.width / r.width) - g.left) / g.step);
      if (unit >= 0 && unit < shape[0]) openDetail(li, unit);
    });
    cv.addEventListener("keydown", (e) => {
      const v = state.values[li];
      if (e.key === "Enter" && v) openDetail(li, v.v.indexOf(Math.max(...v.v)));
    });
    body.append(cv);
  }
  row.append(body);
  return row;
}

// merged names what a merge layer makes of its inputs.
const merged = { Add: "the sum of ", Multiply: "the product of ", Average: "the mean of ", Subtract: "the difference of ", ScaledAdd: "the scaled sum of ", Maximum: "the largest of ", Minimum: "the smallest of " };

function toggleBlock(b, button) {
  b.open = !b.open;
  b.el.querySelector(".inner").hidden = !b.open;
  button.textContent = b.open ? `▾ hide the layers inside` : `▸ show the ${b.layers.length} layers`;
  button.setAttribute("aria-expanded", String(b.open));
  if (renderBlock(b)) document.dispatchEvent(new Event("convnet:need-layers"));
  drawEdges();
}

export function barGeometry(n, W) {
  const left = 4;
  const step = Math.max(1, (W - 8) / n);
  return { left, step, width: Math.max(1, step - (step > 4 ? 1.5 : 0)) };
}

// renderAll paints the blocks on screen and marks the others stale. It
// returns true when a block on screen lacks its values (ask again).
export function renderAll() {
  let missing = false;
  for (const b of state.blocks) {
    b.stale = true;
    if (b.visible) missing = renderBlock(b) || missing;
  }
  return missing;
}

// renderBlock paints a block's rows from the last answer; it returns true
// if a value it needs was not in it.
function renderBlock(b) {
  let missing = false;
  for (const li of b.open ? b.layers : [b.out]) {
    const row = b.el.querySelector(`.layer[data-layer="${li}"]`);
    if (!paintRow(row)) missing = true;
  }
  b.stale = missing;
  return missing;
}

function paintRow(row) {
  const li = Number(row.dataset.layer);
  const l = state.values[li];
  if (!l) return false;
  if (l.shape.length === 3) paintMaps(row, l);
  else paintBars(row.querySelector("canvas.bars"), l, li === state.model.layers.length - 1);
  return true;
}

export function scaleOf(l) {
  const div = l.min < 0;
  const top = Math.max(Math.abs(l.min), Math.abs(l.max)) || 1;
  return { div, top };
}

function paintMaps(row, l) {
  const [h, w, c] = l.shape;
  const { div, top } = scaleOf(l);
  row.querySelectorAll("canvas.tile").forEach((cv) => {
    const k = Number(cv.dataset.channel);
    const ctx = cv.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) paint(img.data, i, l.v[i * c + k] / top, div);
    ctx.putImageData(img, 0, 0);
  });
}

function paintBars(cv, l, output) {
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

// drawEdges draws a graph model's connections that skip rows: an arc in
// the left margin from the row of a block's input to the block.
export function drawEdges() {
  const svg = $("edges");
  svg.innerHTML = "";
  const m = state.model;
  if (!m || !m.graph) return;
  const root = $("layers");
  const x0 = parseFloat(getComputedStyle(root).paddingLeft) - 4;
  const mid = (b) => b.el.offsetTop + Math.min(40, b.el.offsetHeight / 2);
  const arcs = [];
  for (const b of state.blocks) {
    for (const j of m.layers[b.head].inbound) {
      const src = j < 0 ? -1 : state.blocks.findIndex((x) => x.layers.includes(j));
      if (src === b.index - 1) continue;
      arcs.push({ from: src, to: b.index, y0: src < 0 ? 0 : mid(state.blocks[src]), y1: mid(b) });
    }
  }
  // Nest the arcs: each goes one step further out than the arcs inside it.
  arcs.sort((a, b) => (a.to - a.from) - (b.to - b.from));
  const depth = [];
  for (const a of arcs) {
    a.depth = 0;
    for (const o of depth) if (o.from < a.to && a.from < o.to) a.depth = Math.max(a.depth, o.depth + 1);
    depth.push(a);
  }
  const ns = "http://www.w3.org/2000/svg";
  for (const a of arcs) {
    const x = Math.max(4, x0 - 14 - 10 * a.depth);
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", `M ${x0} ${a.y0} C ${x} ${a.y0}, ${x} ${a.y1}, ${x0} ${a.y1}`);
    p.dataset.from = a.from;
    p.dataset.to = a.to;
    const t = document.createElementNS(ns, "title");
    t.textContent = `skip connection into ${m.layers[state.blocks[a.to].head].name}`;
    p.append(t);
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", x0);
    dot.setAttribute("cy", a.y1);
    dot.setAttribute("r", 3.5);
    svg.append(p, dot);
  }
}
window.addEventListener("resize", () => requestAnimationFrame(drawEdges));
