// The arithmetic of UpSampling2D and Resizing: an output cell from the one,
// two or four cells of the previous layer it reads, each with its weight,
// computed as the layers do (tf.image.resize: half-pixel centres, in/out in
// float32), and checked against the network's own value.
import { fmt } from "./state.js";
import { layerInput, inShape } from "./calc.js";

const f32 = Math.fround;

// resamples reports whether a layer type resamples its input.
export function resamples(type) {
  return type === "UpSampling2D" || type === "Resizing";
}

// window returns the part of an h×w input a layer of config c resizes:
// [top, left, rows, columns] (Resizing's crop_to_aspect_ratio).
function window(type, c, h, w) {
  if (type !== "Resizing" || !c.crop_to_aspect_ratio) return [0, 0, h, w];
  const rows = Math.min(Math.max(Math.trunc(f32(f32(w * c.height) / c.width)), 1), h);
  const cols = Math.min(Math.max(Math.trunc(f32(f32(h * c.width) / c.height)), 1), w);
  return [Math.trunc((h - rows) / 2), Math.trunc((w - cols) / 2), rows, cols];
}

// axisTaps returns the inputs [index, weight] output o of an axis reads:
// from, the first input index read; n inputs resized to out.
function axisTaps(o, from, n, out, nearest, repeat) {
  if (repeat) return [[from + Math.floor((o * n) / out), 1]];
  const scale = f32(n / out);
  if (nearest) return [[from + Math.min(Math.trunc(f32(f32(o + 0.5) * scale)), n - 1), 1]];
  const src = Math.max(f32(f32(f32(o + 0.5) * scale) - 0.5), 0);
  const i = Math.floor(src);
  if (i >= n - 1) return [[from + n - 1, 1]];
  const l = f32(src - i);
  return l === 0 ? [[from + i, 1]] : [[from + i, f32(1 - l)], [from + i + 1, l]];
}

// resampleTaps returns the rows and the columns of the previous layer's
// h×w map that cell (y, x) of layer l's output reads, with their weights.
export function resampleTaps(l, h, w, y, x) {
  const c = l.config || {}, [oh, ow] = l.output_shape;
  const [top, left, rows, cols] = window(l.type, c, h, w);
  const nearest = c.interpolation === "nearest", repeat = nearest && l.type === "UpSampling2D";
  return [axisTaps(y, top, rows, oh, nearest, repeat), axisTaps(x, left, cols, ow, nearest, repeat)];
}

// resampleCalc shows cell (y, x) of an UpSampling2D or a Resizing: the
// cells of the previous layer it reads, their weights and the sum.
export function resampleCalc(d, l, y, x, value) {
  const input = layerInput(d.layer), [H, W, C] = inShape(d.layer);
  const [ry, rx] = resampleTaps(l, H, W, y, x);
  const terms = [];
  let sum = 0;
  for (const [iy, wy] of ry) {
    let row = 0;
    for (const [ix, wx] of rx) {
      const v = input.v[(iy * W + ix) * C + d.channel];
      row = f32(row + f32(wx * v));
      terms.push(`${fmt(f32(wy * wx))} × (row ${iy}, column ${ix}) ${fmt(v)}`);
    }
    sum = f32(sum + f32(wy * row));
  }
  const net = `network's value: <b data-v="${value}">${fmt(value)}</b>`;
  if (terms.length === 1) {
    const [[iy], [ix]] = [ry[0], rx[0]];
    return `<p>A copy of the previous layer's nearest cell, (row ${iy}, column ${ix}).</p>` +
      `<div class="eq">copied: <b data-v="${sum}">${fmt(sum)}</b><br>${net}</div>`;
  }
  return `<p>A blend of the previous layer's ${terms.length} nearest cells, weighted by closeness (bilinear, half-pixel centres):</p>` +
    `<div class="eq">${terms.join(" + ")} = <b data-v="${sum}">${fmt(sum)}</b><br>${net}</div>`;
}
