// The detail drawer of one channel (or unit): its map, where a pixel looks
// in the input, the kernel, the input channels that feed it most, the
// exact arithmetic of a pixel, the kernel sliding over its input
// (slide.js), and how the whole layer's values and weights spread (stats.js).
import { $, state, fmt } from "./state.js";
import { getJSON } from "./api.js";
import { paint } from "./colormap.js";
import { blockOf, scaleOf, drawEdges } from "./layers.js";
import { explain } from "./explain.js";
import { inShape, inputIndex, windowOf, receptiveField, convolves, contributions, groupOf, channelRange, convCalc, poolCalc, padCalc, meanCalc, maxCalc, channelSource, channelCalc, unitCalc, rescaleCalc, preluCalc, normCalc, reshapeCalc } from "./calc.js";
import { setupSlide, stopSlide, renderSlide } from "./slide.js";
import { resetWhatIf } from "./whatif.js";
import { lnCalc, gnCalc, scaleCalc } from "./calc_norm.js";
import { mergeCalc } from "./calc_merge.js";
import { resamples, resampleCalc } from "./calc_resample.js";
import { showPattern } from "./pattern.js";
import { resetStats, renderValueStats, showWeightStats } from "./stats.js";

let requestUpdate = () => {};

export function setupDetail(update) {
  requestUpdate = update;
  $("closeDetail").addEventListener("click", closeDetail);
  $("detailMap").addEventListener("click", (e) => {
    if (!state.detail) return;
    const [h, w] = mapShape();
    const r = e.target.getBoundingClientRect();
    pickPixel(Math.floor(((e.clientY - r.top) / r.height) * h), Math.floor(((e.clientX - r.left) / r.width) * w));
  });
  $("detailMap").addEventListener("keydown", (e) => {
    const d = state.detail;
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!d || !d.pixel || !step) return;
    e.preventDefault();
    pickPixel(d.pixel[0] + step[0], d.pixel[1] + step[1]);
  });
  setupSlide(() => renderDetail());
}

const mapShape = () => state.model.layers[state.detail.layer].output_shape;

function pickPixel(y, x) {
  const [h, w] = mapShape();
  state.detail.pixel = [Math.max(0, Math.min(h - 1, y)), Math.max(0, Math.min(w - 1, x))];
  stopSlide();
  renderDetail();
  document.dispatchEvent(new Event("convnet:view"));
}

// detailLayers lists the layers whose exact values the drawer needs: the
// computing layer's inputs, itself and the layers after it in its block.
export function detailLayers() {
  const d = state.detail;
  if (!d) return [];
  return [...state.model.layers[d.layer].inbound, d.layer, ...d.chain];
}

// openDetail opens channel ch of layer li. For the output of a block, the
// drawer explains the block's first layer and follows the value through
// the layers after it.
export async function openDetail(li, ch) {
  const m = state.model;
  const b = blockOf(li);
  const layer = b && li === b.out && b.layers.length > 1 ? b.head : li;
  const chain = b ? b.layers.filter((i) => i > layer && i <= li) : [];
  state.detail = { layer, shown: li, chain, channel: ch, pixel: null, kernel: null, from: null };
  document.querySelectorAll(".tile.sel").forEach((t) => t.classList.remove("sel"));
  const tile = document.querySelector(`.layer[data-layer="${li}"] canvas[data-channel="${ch}"]`);
  if (tile) tile.classList.add("sel");
  const l = m.layers[layer];
  const three = l.output_shape.length === 3;
  $("detail").hidden = false;
  $("detailTitle").textContent = `${l.name} · ${three ? "channel" : "unit"} ${ch} of ${l.output_shape[l.output_shape.length - 1]}`;
  const names = chain.map((i) => m.layers[i].type).join(", then ");
  $("detailExplain").textContent = (explain[l.type] ? explain[l.type](l.config || {}, l) + " " : "") +
    (names ? `In this block it is followed by ${names}. ` : "") +
    (three ? "Click a pixel of the map to see where it looks in the input and how its value is computed." : "");
  $("mapBox").hidden = !three;
  $("rfBox").hidden = !three;
  $("kernels").innerHTML = "";
  $("calc").innerHTML = "";
  $("ranks").innerHTML = "";
  $("kernelBox").hidden = true;
  $("rankBox").hidden = true;
  stopSlide();
  if (three) {
    const [h, w] = l.output_shape;
    state.detail.pixel = [Math.floor(h / 2), Math.floor(w / 2)];
  }
  $("slide").hidden = !(three && windowOf(layer));
  resetWhatIf();
  showPattern(li, ch);
  document.dispatchEvent(new Event("convnet:view"));
  resetStats();
  showWeightStats(layer).catch((err) => { $("weightStats").textContent = err.message; });
  requestUpdate();
  if (l.params && l.params.some((p) => p.name === "kernel" || p.name === "depthwise_kernel") || ["PReLU", "Normalization", "LayerNormalization", "GroupNormalization", "LayerScale"].includes(l.type)) {
    try {
      const k = await getJSON(`/api/models/${m.name}/layers/${layer}/kernel?channel=${ch}`);
      const d = state.detail;
      if (d && d.layer === layer && d.channel === ch) {
        d.kernel = k;
        if (k.shape.length === 3) showKernels(k);
        renderDetail();
      }
    } catch (err) {
      $("calc").textContent = err.message;
    }
  }
}

export function closeDetail() {
  if (!state.detail) return;
  stopSlide();
  state.detail = null;
  $("detail").hidden = true;
  $("patternBox").hidden = true;
  document.querySelectorAll(".tile.sel").forEach((t) => t.classList.remove("sel"));
  drawEdges();
  document.dispatchEvent(new Event("convnet:view"));
}

// showKernels draws a convolution's kernel, one slice per input channel
// it reads: all of them for a Conv2D, those of its group for a grouped
// one, one for a DepthwiseConv2D.
function showKernels(k) {
  const [kh, kw, cin] = k.shape;
  const C = inShape(k.layer)[2];
  const box = $("kernels");
  $("kernelBox").hidden = false;
  const grp = groupOf(k);
  const reads = grp ? `input ${channelRange(grp.first, grp.last)}, the ${cin === 1 ? "one" : cin} of its group (group ${grp.index} of ${grp.g})`
    : cin > 1 ? `each of the ${cin} input channels` : C > 1 ? `input channel ${k.input_channel}, the only one it reads` : "the input channel";
  $("kernelTitle").textContent = `Kernel weights: ${kh}×${kw} for ${reads}` + (k.bias != null ? `, bias ${k.bias.toFixed(3)}` : "");
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
    cell.append(cv, document.createTextNode(C > 1 ? `in ${k.input_channel + i}` : "weights"));
    box.append(cell);
  }
  if (cin > shown) box.append(document.createTextNode(`… and ${cin - shown} more`));
}

// drawMap paints channel ch of tensor t on a canvas of its own resolution
// (not the map's), so that the selected pixel's marker stays sharp on the
// smallest maps; it returns the size of one map pixel.
export function drawMap(cv, t, ch, marker) {
  const [h, w, c] = t.shape;
  const { div, top } = scaleOf(t);
  const off = new OffscreenCanvas(w, h);
  const octx = off.getContext("2d");
  const img = octx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) paint(img.data, i, t.v[i * c + ch] / top, div);
  octx.putImageData(img, 0, 0);
  const ctx = cv.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, cv.width, cv.height);
  ctx.drawImage(off, 0, 0, cv.width, cv.height);
  const sy = cv.height / h, sx = cv.width / w;
  if (marker) {
    const [y, x] = marker;
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#000";
    ctx.strokeRect(x * sx + 1.5, y * sy + 1.5, sx - 3, sy - 3);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#20c997";
    ctx.strokeRect(x * sx + 1.5, y * sy + 1.5, sx - 3, sy - 3);
  }
  return [sy, sx];
}

// perValue holds the arithmetic of the layers whose value comes from one
// value of the previous layer and weights the kernel API answers.
const perValue = {
  PReLU: (d, l, y, x, v) => preluCalc(d, y, x, v),
  Normalization: normCalc,
  LayerNormalization: lnCalc,
  GroupNormalization: gnCalc,
  LayerScale: (d, l, y, x, v) => scaleCalc(d, y, x, v),
};

export function renderDetail() {
  const d = state.detail, m = state.model;
  if (!d) return;
  const l = m.layers[d.layer];
  const out = state.values[d.layer];
  const input = inputIndex(d.layer) < 0 ? state.input : state.values[inputIndex(d.layer)];
  const calc = $("calc");
  if (!out) return;
  renderValueStats(d);
  if (l.output_shape.length !== 3) {
    if (perValue[l.type]) {
      const exact = input && input.full && out.full && d.kernel;
      const v = out.v[d.channel];
      calc.innerHTML = `<h3>Value ${fmt(v)}</h3>` + (exact ? perValue[l.type](d, l, 0, 0, v) : `<p class="hint">Loading exact values…</p>`);
    } else if (l.type === "Reshape") {
      const exact = input && input.full && out.full;
      calc.innerHTML = `<h3>Value ${fmt(out.v[d.channel])}</h3>` + (exact ? reshapeCalc(d, l, 0, 0, out.v[d.channel]) : `<p class="hint">Loading exact values…</p>`);
    } else if (channelSource(l, d.channel) < 0) calc.innerHTML = unitCalc(d, l, out, renderDetail);
    else {
      const exact = input && input.full && out.full;
      calc.innerHTML = `<h3>Value ${fmt(out.v[d.channel])}</h3>` + (exact ? channelCalc(d, l, 0, 0, out.v[d.channel]) : `<p class="hint">Loading exact values…</p>`);
    }
    return;
  }
  const [, w, c] = l.output_shape;
  const shown = state.values[d.shown] || out;
  drawMap($("detailMap"), shown, d.channel, d.pixel);
  if (!d.pixel) return;
  const [y, x] = d.pixel;
  // Where the pixel looks: the box on the framed input.
  const [y0, y1, x0, x1] = receptiveField(d.layer, [y, y, x, x]);
  const [IH, IW] = m.input_shape;
  const rf = $("rfMap");
  const rctx = rf.getContext("2d");
  rctx.imageSmoothingEnabled = false;
  rctx.drawImage($("input"), 0, 0, rf.width, rf.height);
  rctx.strokeStyle = "#20c997";
  rctx.lineWidth = 2;
  rctx.strokeRect((x0 * rf.width) / IW, (y0 * rf.height) / IH, ((x1 - x0 + 1) * rf.width) / IW, ((y1 - y0 + 1) * rf.height) / IH);
  $("rfhint").textContent = `rows ${y0}–${y1}, columns ${x0}–${x1} of the ${IH}×${IW} input`;
  const value = out.v[(y * w + x) * c + d.channel];
  let html = `<h3>Pixel (row ${y}, column ${x}) = ${fmt(value)}</h3>`;
  const exact = input && input.full && out.full && l.inbound.every((j) => (j < 0 ? state.input : state.values[j]) && (j < 0 ? state.input : state.values[j]).full);
  if (!exact) {
    html += `<p class="hint">Loading exact values…</p>`;
  } else if (convolves(l) && d.kernel) {
    html += convCalc(d, l, out, y, x, renderDetail);
    renderRanks(d, y, x);
  } else if (l.inbound.length > 1) {
    html += mergeCalc(d, l, y, x, value);
  } else if (perValue[l.type] && d.kernel) {
    html += perValue[l.type](d, l, y, x, value);
  } else if (l.type === "Reshape") {
    html += reshapeCalc(d, l, y, x, value);
  } else if (channelSource(l, d.channel) >= 0) {
    html += channelCalc(d, l, y, x, value);
  } else if (l.type === "GlobalAveragePooling2D") {
    html += meanCalc(d, value);
  } else if (l.type === "GlobalMaxPooling2D") {
    html += maxCalc(d, value);
  } else if (l.type === "Rescaling") {
    html += rescaleCalc(d, l, y, x, value);
  } else if ((l.type === "ZeroPadding2D" || l.type === "Cropping2D") && windowOf(d.layer)) {
    html += padCalc(d, y, x, value);
  } else if (resamples(l.type)) {
    html += resampleCalc(d, l, y, x, value);
  } else if (windowOf(d.layer)) {
    html += poolCalc(d, l, y, x, value);
  } else {
    const [, , ci] = inShape(d.layer);
    html += `<div class="eq">input ${fmt(input.v[(y * w + x) * ci + d.channel])} → ${l.type} → <b>${fmt(value)}</b></div>`;
  }
  html += chainLine(d, y, x, value);
  calc.innerHTML = html;
  const copied = calc.querySelector("canvas.copied");
  if (copied) drawMap(copied, input, channelSource(l, d.channel), d.pixel);
  renderSlide();
}

// chainLine follows the pixel through the layers after the computing one
// in its block, with the network's values.
function chainLine(d, y, x, value) {
  if (!d.chain.length) return "";
  const m = state.model;
  const parts = [`${fmt(value)}`];
  for (const li of d.chain) {
    const t = state.values[li];
    if (!t) return "";
    const [, w, c] = t.shape;
    const l = m.layers[li];
    const name = l.type === "ReLU" ? "relu" : l.type === "Activation" ? l.config.activation : l.type === "BatchNormalization" ? "batch normalization" : l.type === "LayerNormalization" ? "layer normalization" : l.type === "GroupNormalization" ? "group normalization" : l.type === "LayerScale" ? "layer scale" : l.type.toLowerCase();
    parts.push(`${name} → ${fmt(t.v[(y * w + x) * c + d.channel])}`);
  }
  return `<p class="chain">Then, in the block: ${parts.join(", ")} (the tile's value).</p>`;
}

// renderRanks lists the input channels of a convolution by the mean size
// of their part of its sums over the whole map; the bar is the selected
// pixel's part. A grouped convolution's list has its group's channels, a
// depthwise convolution's its one input channel.
function renderRanks(d, y, x) {
  const k = d.kernel;
  const cin = k.shape[2];
  if (inShape(d.layer)[2] < 2) return;
  const key = `${state.updates}/${d.layer}/${d.channel}`;
  if (d.rankKey !== key) {
    const [h, w] = state.model.layers[d.layer].output_shape;
    const mean = new Float64Array(cin);
    for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) {
      const s = contributions(d.layer, k, yy, xx);
      for (let i = 0; i < cin; i++) mean[i] += Math.abs(s[i]) / (h * w);
    }
    d.rankKey = key;
    d.rank = [...mean].map((v, i) => [k.input_channel + i, v]).sort((a, b) => b[1] - a[1]);
  }
  const here = contributions(d.layer, k, y, x);
  const top = Math.max(...d.rank.map((r) => r[1]), ...here.map(Math.abs)) || 1;
  $("rankBox").hidden = false;
  const grp = groupOf(k);
  $("rankTitle").textContent = cin > 1 ? `Input channels ${grp ? "of its group " : ""}that feed it most` : "The one input channel that feeds it";
  const only = grp ? `A grouped convolution: only input ${channelRange(grp.first, grp.last)} of the ${inShape(d.layer)[2]}, group ${grp.index} of ${grp.g}, feed this map. ` : "";
  $("rankhint").textContent = cin > 1
    ? `${only}Mean size of each input channel's part of the sum over the whole map; the bar is this pixel's share. Click one to follow it.`
    : grp ? `${only}The number is the mean size of its sum over the whole map, the bar its size at this pixel.`
    : `A depthwise convolution filters each input map on its own: channel ${k.input_channel} alone feeds this map, and no other channel is mixed in. The number is the mean size of its sum over the whole map, the bar its size at this pixel.`;
  const ol = $("ranks");
  ol.innerHTML = "";
  for (const [i, v] of d.rank.slice(0, 8)) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.className = d.from === i ? "sel" : "";
    b.dataset.channel = i;
    const p = here[i - k.input_channel];
    b.innerHTML = `<span>in ${i}</span><span class="rbar"><span class="${p < 0 ? "neg" : "pos"}" style="width:${(Math.abs(p) / top) * 100}%"></span></span><span>${fmt(v)}</span>`;
    b.title = `input channel ${i}: mean |part| ${fmt(v)} over the map, ${fmt(p)} at this pixel`;
    b.addEventListener("click", () => {
      d.from = d.from === i ? null : i;
      renderDetail();
    });
    li.append(b);
    ol.append(li);
  }
}
