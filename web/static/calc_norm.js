// The arithmetic of ConvNeXt's layers: a LayerNormalization's value from
// the values it is normalised with, a LayerScale's from its channel's
// scale; each checked against the network's own value.
import { fmt } from "./state.js";
import { layerInput, inShape, inputIndex } from "./calc.js";

// normAxes returns which of the rank axes of a sample a
// LayerNormalization of config c normalises (Keras's axis: counted from 1,
// or from the end when negative; -1 when absent).
export function normAxes(c, rank) {
  const norm = new Array(rank).fill(false);
  for (const a of [].concat(c.axis === undefined || c.axis === null ? [-1] : c.axis)) norm[a < 0 ? a + rank : a - 1] = true;
  return norm;
}

// lnCalc shows a value of a LayerNormalization: the previous layer's value
// less the mean of the values normalised with it (over the layer's axes,
// the other indices the same as its own), divided by √(their variance +
// epsilon), then times gamma plus beta, computed as the layer does: the
// statistics in float64, the rest in float32. d.kernel holds gamma (values)
// and beta (offsets) for the channel, [h, w] for a map, 1 along the axes
// not normalised; one each for a unit.
export function lnCalc(d, l, y, x, value) {
  const input = layerInput(d.layer), k = d.kernel, c = l.config || {};
  const shape = inShape(d.layer), rank = shape.length;
  const norm = normAxes(c, rank);
  const at = rank === 3 ? [y, x, d.channel] : [d.channel];
  // The values normalised together with this one: every index along the
  // normalised axes, this value's along the others.
  const group = [];
  const walk = (a, off) => {
    if (a === rank) return group.push(input.v[off]);
    const stride = shape.slice(a + 1).reduce((p, n) => p * n, 1);
    if (!norm[a]) return walk(a + 1, off + at[a] * stride);
    for (let i = 0; i < shape[a]; i++) walk(a + 1, off + i * stride);
  };
  walk(0, 0);
  const n = group.length;
  const mean = group.reduce((p, v) => p + v, 0) / n;
  const variance = group.reduce((p, v) => p + (v - mean) * (v - mean), 0) / n;
  const eps = c.epsilon || 1e-3;
  const m = Math.fround(mean), inv = Math.fround(1 / Math.sqrt(variance + eps));
  const [h, w] = k.shape.length === 2 ? k.shape : [1, 1];
  const i = Math.min(y, h - 1) * w + Math.min(x, w - 1);
  const g = k.values[i], b = k.offsets[i];
  const v = input.v[rank === 3 ? (y * shape[1] + x) * shape[2] + d.channel : d.channel];
  const r = Math.fround(Math.fround(Math.fround(Math.fround(v - m) * inv) * g) + b);
  const which = rank === 3 && norm[2] && !norm[0] && !norm[1] ? `the ${n} channels of this pixel` : n === shape.reduce((p, q) => p * q, 1) ? `all ${n} values of the image` : `the ${n} values normalised with it`;
  const src = inputIndex(d.layer) < 0 ? "The input's" : "The previous layer's";
  return `<p>${src} value less the mean of ${which}, ${fmt(m)}, divided by √(their variance ${fmt(variance)} + ${eps}) = ${fmt(1 / inv)}: statistics of this image alone. ` +
    `Then times gamma, ${fmt(g)}, plus beta, ${fmt(b)}, learned in training.</p>` +
    `<div class="eq">(${fmt(v)} − ${fmt(m)}) ÷ ${fmt(1 / inv)} × ${fmt(g)} + ${fmt(b)} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// scaleCalc shows a value of a LayerScale: the previous layer's value times
// its channel's scale (d.kernel.values[0]), learned in training.
export function scaleCalc(d, y, x, value) {
  const input = layerInput(d.layer), shape = inShape(d.layer);
  const v = input.v[shape.length === 3 ? (y * shape[1] + x) * shape[2] + d.channel : d.channel];
  const s = d.kernel.values[0], r = Math.fround(v * s);
  const src = inputIndex(d.layer) < 0 ? "The input's" : "The previous layer's";
  return `<p>${src} value times this channel's scale, ${fmt(s)}, learned in training (ConvNeXt's layer scale).</p>` +
    `<div class="eq">${fmt(v)} × ${fmt(s)} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// gnCalc shows a value of a GroupNormalization: the previous layer's value
// less the mean of its group's values (the group's channels, from
// d.kernel.input_channel, at every pixel), divided by √(their variance +
// epsilon), then times its channel's gamma plus beta (d.kernel.values[0],
// d.kernel.offsets[0]), computed as the layer does: the statistics and
// the normalised value in float64, rounded to float32, then times gamma
// plus beta in float32.
export function gnCalc(d, l, y, x, value) {
  const input = layerInput(d.layer), k = d.kernel, c = l.config || {};
  const shape = inShape(d.layer), rank = shape.length, ch = shape[rank - 1];
  const groups = c.groups > 0 ? c.groups : ch, size = ch / groups, first = k.input_channel;
  const group = [];
  for (let off = 0; off < input.v.length; off += ch) {
    for (let j = first; j < first + size; j++) group.push(input.v[off + j]);
  }
  const n = group.length;
  const mean = group.reduce((p, v) => p + v, 0) / n;
  const variance = group.reduce((p, v) => p + (v - mean) * (v - mean), 0) / n;
  const eps = c.epsilon || 1e-3;
  const m = mean, inv = 1 / Math.sqrt(variance + eps);
  const g = k.values[0], b = k.offsets[0];
  const v = input.v[rank === 3 ? (y * shape[1] + x) * ch + d.channel : d.channel];
  const r = Math.fround(Math.fround(g * Math.fround((v - m) * inv)) + b);
  const chans = size === 1 ? `this channel` : `channels ${first}–${first + size - 1}, this one's group of ${size}`;
  const which = rank === 3 ? `the ${n} values of ${chans} at every pixel` : `the ${n} values of ${chans}`;
  const src = inputIndex(d.layer) < 0 ? "The input's" : "The previous layer's";
  return `<p>${src} value less the mean of ${which}, ${fmt(m)}, divided by √(their variance ${fmt(variance)} + ${eps}) = ${fmt(1 / inv)}: statistics of this image alone. ` +
    `Then times this channel's gamma, ${fmt(g)}, plus its beta, ${fmt(b)}, learned in training.</p>` +
    `<div class="eq">(${fmt(v)} − ${fmt(m)}) ÷ ${fmt(1 / inv)} × ${fmt(g)} + ${fmt(b)} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}
