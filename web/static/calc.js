// The exact arithmetic of one output value: a convolution's patch times
// its kernel, a pooling window, a dense unit's weighted sum, a merge, the
// channel a slice or a shuffle copies; each checked against the network's
// own value. Activation functions are applied by the server, with the
// network's code.
import { state, fmt, esc } from "./state.js";
import { getJSON } from "./api.js";
import { resamples, resampleTaps } from "./calc_resample.js";

// layerInput returns the output that layer li takes (its first input):
// the decoded values, or undefined while they are on their way.
export function inputIndex(li) { return state.model.layers[li].inbound[0]; }
export function layerInput(li) {
  const j = inputIndex(li);
  return j < 0 ? state.input : state.values[j];
}
export function inShape(li) {
  const j = inputIndex(li);
  return j < 0 ? state.model.input_shape : state.model.layers[j].output_shape;
}

// windowOf returns the kernel size, stride, top/left padding and the taps'
// distance (d, the dilation) of a convolution or pooling layer, or null:
// the geometry the server's layers compute with (layer.window in
// /api/models). span is the rows and columns the window covers.
export function windowOf(li) {
  const w = state.model.layers[li].window;
  if (!w) return null;
  const d = w.dilation || [1, 1];
  return { k: w.size, s: w.strides, pt: w.pad[0], pl: w.pad[1], d, span: [(w.size[0] - 1) * d[0] + 1, (w.size[1] - 1) * d[1] + 1] };
}

// receptiveField maps the output box [y0, y1, x0, x1] of layer li back to
// the model's input, through every path of a graph (the union of boxes).
export function receptiveField(li, box) {
  const m = state.model;
  if (li < 0) return box;
  const l = m.layers[li];
  const [H, W] = inShape(li);
  if (l.output_shape.length !== 3 || inShape(li).length !== 3) return [0, m.input_shape[0] - 1, 0, m.input_shape[1] - 1];
  let [y0, y1, x0, x1] = box;
  const win = windowOf(li);
  if (win) {
    y0 = Math.max(0, y0 * win.s[0] - win.pt); y1 = Math.min(H - 1, y1 * win.s[0] - win.pt + win.span[0] - 1);
    x0 = Math.max(0, x0 * win.s[1] - win.pl); x1 = Math.min(W - 1, x1 * win.s[1] - win.pl + win.span[1] - 1);
  } else if (l.type === "GlobalAveragePooling2D" || l.type === "GlobalMaxPooling2D") {
    [y0, y1, x0, x1] = [0, H - 1, 0, W - 1]; // kept as a 1×1 map: the mean or maximum of the whole map
  } else if (resamples(l.type)) {
    const [ry0, rx0] = resampleTaps(l, H, W, y0, x0), [ry1, rx1] = resampleTaps(l, H, W, y1, x1);
    [y0, y1, x0, x1] = [ry0[0][0], ry1[ry1.length - 1][0], rx0[0][0], rx1[rx1.length - 1][0]];
  }
  let out = null;
  for (const j of l.inbound) {
    // A merge repeats an input of size 1 along an axis: its one row or column.
    const [h, w] = j < 0 ? m.input_shape : m.layers[j].output_shape;
    const r = receptiveField(j, [h === 1 ? 0 : y0, h === 1 ? 0 : y1, w === 1 ? 0 : x0, w === 1 ? 0 : x1]);
    out = out ? [Math.min(out[0], r[0]), Math.max(out[1], r[1]), Math.min(out[2], r[2]), Math.max(out[3], r[3])] : r;
  }
  return out;
}

// activated returns f(z) for the activation of layer li, computed by the
// server with the network's own code, or null while the answer is on its
// way (onValue is called when it comes).
const activationCache = new Map();
export function activated(li, z, onValue) {
  const key = `${state.model.name}/${li}/${z}`;
  if (activationCache.has(key)) return activationCache.get(key);
  if (activationCache.size > 1000) activationCache.clear();
  activationCache.set(key, null);
  getJSON(`/api/models/${state.model.name}/layers/${li}/activation?z=${z}`).then(
    (a) => { activationCache.set(key, a.values[0]); onValue(); },
    () => activationCache.delete(key),
  );
  return null;
}

// activationLine shows the activation of layer li applied to z: null while
// the value is computed, "" when the layer has no activation function
// (linear) or one that needs the whole layer (softmax).
function activationLine(li, name, z, onValue) {
  if (name === "linear") return "";
  if (name === "softmax") return "softmax over all units turns these scores into probabilities<br>";
  const v = activated(li, z, onValue);
  return v === null ? null : `${name}(${fmt(z)}) = <b data-v="${v}">${fmt(v)}</b><br>`;
}

const table = (rows, cols, f) => {
  let t = "<table>";
  for (let a = 0; a < rows; a++) {
    t += "<tr>";
    for (let b = 0; b < cols; b++) t += `<td>${fmt(f(a, b))}</td>`;
    t += "</tr>";
  }
  return t + "</table>";
};

// convolves tells whether layer l slides a kernel over its input (a
// Conv2D, a DepthwiseConv2D whose kernel reads one input channel, or a
// Dense layer on an image, a 1×1 convolution).
export const convolves = (l) => l.type === "Conv2D" || l.type === "DepthwiseConv2D" || (l.type === "Dense" && l.output_shape.length === 3);

// groupOf returns the group of a grouped Conv2D that kernel k (the kernel
// API's answer) belongs to: {g, index, first, last}, its input channels
// being first..last; null for a convolution of one group.
export function groupOf(k) {
  const l = state.model.layers[k.layer];
  const g = (l.type === "Conv2D" && l.config && l.config.groups) || 1;
  if (g < 2) return null;
  const n = k.shape[2];
  return { g, index: Math.floor(k.input_channel / n), first: k.input_channel, last: k.input_channel + n - 1 };
}

// channelRange names input channels first..last.
export const channelRange = (first, last) => (first === last ? `channel ${first}` : `channels ${first}–${last}`);

// contributions returns, for output pixel (y, x) of convolution li, the
// part of the sum of each slice i of its kernel (input channel
// kernel.input_channel + i): patch times kernel; win, the window's
// geometry, is the layer's own unless another is given (whatif.js).
export function contributions(li, kernel, y, x, win = windowOf(li)) {
  const input = layerInput(li);
  const [kh, kw, cin] = kernel.shape;
  const [H, W, C] = inShape(li);
  const sums = new Float64Array(cin);
  for (let dy = 0; dy < kh; dy++) {
    const yy = y * win.s[0] + dy * win.d[0] - win.pt;
    if (yy < 0 || yy >= H) continue;
    for (let dx = 0; dx < kw; dx++) {
      const xx = x * win.s[1] + dx * win.d[1] - win.pl;
      if (xx < 0 || xx >= W) continue;
      const o = (yy * W + xx) * C + kernel.input_channel, ko = (dy * kw + dx) * cin;
      for (let i = 0; i < cin; i++) sums[i] += input.v[o + i] * kernel.values[ko + i];
    }
  }
  return sums;
}

export function convCalc(d, l, out, y, x, onValue) {
  const k = d.kernel, win = windowOf(d.layer), input = layerInput(d.layer);
  const [kh, kw, cin] = k.shape;
  const [H, W, C] = inShape(d.layer);
  const sums = contributions(d.layer, k, y, x);
  // i is the kernel's slice shown, input channel ch.
  let i = d.from == null ? -1 : d.from - k.input_channel;
  if (i < 0 || i >= cin) {
    i = 0;
    for (let j = 0; j < cin; j++) if (Math.abs(sums[j]) > Math.abs(sums[i])) i = j;
  }
  const ch = k.input_channel + i;
  const at = (dy, dx) => {
    const yy = y * win.s[0] + dy * win.d[0] - win.pt, xx = x * win.s[1] + dx * win.d[1] - win.pl;
    return yy < 0 || yy >= H || xx < 0 || xx >= W ? 0 : input.v[(yy * W + xx) * C + ch];
  };
  const weight = (dy, dx) => k.values[(dy * kw + dx) * cin + i];
  const which = cin > 1 ? `Input channel ${ch}${d.from == null ? " (the largest part of this pixel's sum)" : ""}:`
    : C > 1 ? `Input channel ${ch}, the only one this map reads: the patch times the kernel, element by element:`
    : "The input patch times the kernel, element by element:";
  const grp = groupOf(k);
  let html = grp ? `<p>A grouped convolution: this filter is in group ${grp.index} of ${grp.g}, and reads only its group's input ${channelRange(grp.first, grp.last)} of the ${C}.</p>` : "";
  if (win.d[0] > 1 || win.d[1] > 1) html += `<p>A dilated convolution: the patch's pixels are ${win.d.join("×")} apart, a ${win.k.join("×")} kernel over ${win.span.join("×")} of the map.</p>`;
  html += `<p>${which}</p>`;
  html += `<div class="mats"><div>patch${table(kh, kw, at)}</div><span class="op">⊙</span><div>kernel${table(kh, kw, weight)}</div>` +
    `<span class="op">=</span><div>products${table(kh, kw, (a, b) => at(a, b) * weight(a, b))}</div></div>`;
  const total = sums.reduce((a, b) => a + b, 0);
  const bias = k.bias || 0;
  const z = total + bias;
  let eq = "";
  if (cin > 1) {
    const parts = [...sums].slice(0, 6).map((s) => fmt(s));
    const over = grp ? `the ${cin} input ${channelRange(grp.first, grp.last)} of group ${grp.index}` : `${cin} input channels`;
    eq += `sum over ${over}: ${parts.join(" + ")}${cin > 6 ? " + …" : ""} = ${fmt(total)}<br>`;
  } else eq += `sum of products = ${fmt(total)}<br>`;
  eq += `+ bias ${fmt(bias)} = ${fmt(z)} (pre-activation)<br>`;
  return html + finish(d, l, out, z, (y * l.output_shape[1] + x) * l.output_shape[2] + d.channel, eq, onValue);
}

// finish applies the layer's activation to z and compares with the
// network's value at index i of out.
function finish(d, l, out, z, i, eq, onValue) {
  const actName = (l.config && l.config.activation) || "linear";
  const act = actName === "linear" ? `no activation: <b data-v="${z}">${fmt(z)}</b><br>` : activationLine(d.layer, actName, z, onValue);
  if (act === null) return `<div class="eq">${eq}${actName}(${fmt(z)}) = …</div>`;
  const nv = out.v[i];
  return `<div class="eq">${eq}${act}network's value: <b data-v="${nv}">${fmt(nv)}</b></div>`;
}

export function poolCalc(d, l, y, x, value) {
  const input = layerInput(d.layer), win = windowOf(d.layer);
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
  return `<p>The ${win.k.join("×")} window of the previous layer's channel ${d.channel}:</p>${t}` +
    `<div class="eq">${op} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// padCalc shows a pixel of a ZeroPadding2D or a Cropping2D: a cell of the
// previous layer, moved by the padding or the crop, or a padding cell,
// always 0.
export function padCalc(d, y, x, value) {
  const input = layerInput(d.layer), win = windowOf(d.layer);
  const [H, W, C] = inShape(d.layer);
  const yy = y - win.pt, xx = x - win.pl, by = state.model.layers[d.layer].type === "Cropping2D" ? "the crop" : "the padding";
  const net = `network's value: <b data-v="${value}">${fmt(value)}</b>`;
  if (yy < 0 || yy >= H || xx < 0 || xx >= W) {
    return `<p>A padding cell, outside the previous layer's ${H}×${W} map: always 0.</p><div class="eq">${net}</div>`;
  }
  const v = input.v[(yy * W + xx) * C + d.channel];
  return `<p>The previous layer's pixel (row ${yy}, column ${xx}), moved by ${by}.</p>` +
    `<div class="eq">copied: <b data-v="${v}">${fmt(v)}</b><br>${net}</div>`;
}

// channelSource returns the input channel that output channel o of a
// ChannelSlice or a ChannelShuffle copies, or -1 for another layer. The
// shuffle of C channels in g groups of n = C/g makes output channel
// i·g + k of channel i of group k: input channel k·n + i.
export function channelSource(l, o) {
  const c = l.config || {};
  if (l.type === "ChannelSlice") return c.start + o;
  if (l.type !== "ChannelShuffle") return -1;
  const g = c.groups, n = l.output_shape[l.output_shape.length - 1] / g;
  return (o % g) * n + Math.floor(o / g);
}

// channelCalc shows where a value of a ChannelSlice or a ChannelShuffle
// comes from: the same pixel (or unit, for a vector) of the input channel
// it copies, whose map the page draws in canvas.copied.
export function channelCalc(d, l, y, x, value) {
  const shape = inShape(d.layer), C = shape[shape.length - 1], c = l.config || {};
  const src = channelSource(l, d.channel), j = inputIndex(d.layer);
  const from = j < 0 ? "the input" : esc(state.model.layers[j].name);
  const three = shape.length === 3;
  const v = layerInput(d.layer).v[three ? (y * shape[1] + x) * C + src : src];
  let why;
  if (l.type === "ChannelSlice") {
    why = `The slice keeps channels ${c.start}–${c.end - 1} of the ${C} of ${from}: channel ${d.channel} here is channel ${c.start} + ${d.channel} = ${src} there.`;
  } else {
    const g = c.groups, n = C / g, i = Math.floor(d.channel / g), k = d.channel % g;
    why = `The shuffle cuts the ${C} channels of ${from} into ${g} groups of ${n} and deals them out in turn: ` +
      `channel ${d.channel} = ${i} × ${g} + ${k} here is channel ${i} of group ${k}, input channel ${k} × ${n} + ${i} = ${src}.`;
  }
  const at = three ? `row ${y}, column ${x}, channel ${src}` : `unit ${src}`;
  const map = three ? `<figure class="copied"><canvas class="copied" width="256" height="256"></canvas><figcaption>${from}, channel ${src}: the same map</figcaption></figure>` : "";
  return `<p>${why} The value is copied, nothing is computed.</p>${map}` +
    `<div class="eq">${from} (${at}) = <b data-v="${v}">${fmt(v)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// meanCalc shows a GlobalAveragePooling2D kept as a 1×1 map: the mean of
// its channel's whole input map.
export function meanCalc(d, value) {
  const input = layerInput(d.layer);
  const [H, W, C] = inShape(d.layer);
  let s = 0;
  for (let i = 0; i < H * W; i++) s += input.v[i * C + d.channel];
  const mean = s / (H * W);
  return `<p>The mean of the ${H * W} values of input map ${d.channel}, kept as a 1×1 map.</p>` +
    `<div class="eq">${fmt(s)} / ${H * W} = <b data-v="${mean}">${fmt(mean)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// number shows a Rescaling's scale or offset: 1/255 for the float closest
// to it, else four significant digits.
export function number(v) {
  const r = 1 / v, half = Math.round(2 * r) / 2;
  if (Math.abs(r) >= 2 && Math.abs(r - half) < 1e-9 * Math.abs(r)) return `1/${half}`;
  return `${+v.toPrecision(4)}`;
}

// rescaleCalc shows a pixel of a Rescaling: the previous layer's value
// times the scale, plus the offset, rounded to float32 after each step as
// the network computes it.
export function rescaleCalc(d, l, y, x, value) {
  const input = layerInput(d.layer);
  const [, W, C] = inShape(d.layer);
  const c = l.config || {}, ch = d.channel;
  const perChannel = Array.isArray(c.scale) || Array.isArray(c.offset);
  const scale = Array.isArray(c.scale) ? c.scale[ch] : c.scale || 1, offset = (Array.isArray(c.offset) ? c.offset[ch] : c.offset) || 0;
  const v = input.v[(y * W + x) * C + ch];
  const r = Math.fround(Math.fround(v * Math.fround(scale)) + Math.fround(offset));
  return `<p>The ${inputIndex(d.layer) < 0 ? "input's" : "previous layer's"} value at this pixel times ${number(scale)}${offset ? `, plus ${number(offset)}` : ""}: ` +
    `${perChannel ? `the values of channel ${ch}; every value of the channel` : "every value"} changes the same way, with nothing learned.</p>` +
    `<div class="eq">${fmt(v)} × ${number(scale)}${offset ? ` ${offset < 0 ? "−" : "+"} ${number(Math.abs(offset))}` : ""} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// preluCalc shows a value of a PReLU: the previous layer's value where it
// is above 0, else that value times its slope (d.kernel: the channel's
// slopes, [ah, aw] for a map, 1 along what shares them; one for a unit).
export function preluCalc(d, y, x, value) {
  const input = layerInput(d.layer), k = d.kernel;
  const shape = inShape(d.layer), C = shape[shape.length - 1];
  const v = shape.length === 3 ? input.v[(y * shape[1] + x) * C + d.channel] : input.v[d.channel];
  const [ah, aw] = k.shape.length === 2 ? k.shape : [1, 1];
  const a = k.values[Math.min(y, ah - 1) * aw + Math.min(x, aw - 1)];
  const where = ah * aw === 1 ? `this ${shape.length === 3 ? "channel" : "unit"}'s slope` : "the slope of this pixel of the channel";
  const from = inputIndex(d.layer) < 0 ? "The input's" : "The previous layer's";
  if (v > 0) {
    return `<p>${from} value is above 0: it passes unchanged.</p>` +
      `<div class="eq"><b data-v="${v}">${fmt(v)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
  }
  const r = Math.fround(v * a);
  return `<p>${from} value is not above 0: it is multiplied by ${where}, ${fmt(a)}, learned in training.</p>` +
    `<div class="eq">${fmt(v)} × ${fmt(a)} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// normCalc shows a value of a Normalization: the previous layer's value
// less its channel's mean, divided by the channel's divisor, max(√variance,
// 1e-7) (inverted: times the divisor, plus the mean). d.kernel holds the
// channel's means and divisors, [h, w] for a map, 1 along what shares them;
// one each for a unit.
export function normCalc(d, l, y, x, value) {
  const input = layerInput(d.layer), k = d.kernel;
  const shape = inShape(d.layer), C = shape[shape.length - 1];
  const v = shape.length === 3 ? input.v[(y * shape[1] + x) * C + d.channel] : input.v[d.channel];
  const [h, w] = k.shape.length === 2 ? k.shape : [1, 1];
  const at = Math.min(y, h - 1) * w + Math.min(x, w - 1);
  const m = k.values[at], s = k.divisors[at];
  const whose = h * w === 1 ? `this ${shape.length === 3 ? "channel" : "unit"}'s` : "this pixel's";
  const src = inputIndex(d.layer) < 0 ? "The input's" : "The previous layer's";
  const sd = `${fmt(s)}, max(√variance, 10⁻⁷)`;
  const c = l.config || {};
  const from = c.mean != null ? "given with the model" : "measured on the training data before training";
  if (c.invert) {
    const r = Math.fround(m + Math.fround(v * s));
    return `<p>${src} value times ${whose} divisor, ${sd}, plus its mean, ${fmt(m)}: both ${from}, undoing a normalization.</p>` +
      `<div class="eq">${fmt(v)} × ${fmt(s)} + ${fmt(m)} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
  }
  const r = Math.fround(Math.fround(v - m) / s);
  return `<p>${src} value less ${whose} mean, ${fmt(m)}, divided by its divisor, ${sd}: both ${from}, nothing learned.</p>` +
    `<div class="eq">(${fmt(v)} − ${fmt(m)}) ÷ ${fmt(s)} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// reshapeCalc shows where a value of a Reshape comes from: the input's
// value at the same place in row-major order (rows, then columns, then
// channels), which the reshape lays out again.
export function reshapeCalc(d, l, y, x, value) {
  const shape = inShape(d.layer), out = l.output_shape;
  const i = out.length === 3 ? (y * out[1] + x) * out[2] + d.channel : d.channel;
  const v = layerInput(d.layer).v[i];
  let at = `unit ${i}`;
  if (shape.length === 3) {
    const [, W, C] = shape;
    at = `row ${Math.floor(i / (W * C))}, column ${Math.floor(i / C) % W}, channel ${i % C}`;
  }
  const from = inputIndex(d.layer) < 0 ? "the input" : esc(state.model.layers[inputIndex(d.layer)].name);
  return `<p>A reshape moves values without changing them: taken in order, rows then columns then channels, value ${i} here is value ${i} of ${from}, at ${at}.</p>` +
    `<div class="eq"><b data-v="${v}">${fmt(v)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// maxCalc shows a GlobalMaxPooling2D kept as a 1×1 map: the largest of
// its channel's input values, and where it is (the first, row by row).
export function maxCalc(d, value) {
  const input = layerInput(d.layer);
  const [H, W, C] = inShape(d.layer);
  let best = 0;
  for (let i = 1; i < H * W; i++) if (input.v[i * C + d.channel] > input.v[best * C + d.channel]) best = i;
  const m = input.v[best * C + d.channel];
  return `<p>The largest of the ${H * W} values of input map ${d.channel}, kept as a 1×1 map.</p>` +
    `<div class="eq">max at row ${Math.floor(best / W)}, column ${best % W} = <b data-v="${m}">${fmt(m)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

export function unitCalc(d, l, out, onValue) {
  const value = out.v[d.channel];
  let html = `<h3>Value ${fmt(value)}</h3>`;
  const k = d.kernel, input = layerInput(d.layer);
  if (k && input && input.full && out.full && k.shape.length === 1) {
    const contrib = [...input.v].map((v, i) => [i, v * k.values[i], v, k.values[i]]).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    const sum = contrib.reduce((a, b) => a + b[1], 0);
    html += `<p>The ${contrib.length} inputs times their weights; the largest contributions:</p><table><tr><td>input</td><td>value</td><td>weight</td><td>product</td></tr>`;
    for (const [i, p, v, wgt] of contrib.slice(0, 8)) html += `<tr><td>#${i}</td><td>${fmt(v)}</td><td>${fmt(wgt)}</td><td>${fmt(p)}</td></tr>`;
    html += "</table>";
    const z = sum + (k.bias || 0);
    html += finish(d, l, out, z, d.channel, `sum of all ${contrib.length} products = ${fmt(sum)}<br>+ bias ${fmt(k.bias || 0)} = ${fmt(z)} (pre-activation)<br>`, onValue);
  } else if (k) {
    html += `<p class="hint">Loading exact values…</p>`;
  }
  return html;
}
