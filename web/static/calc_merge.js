// The arithmetic of the merge layers at a pixel: the sum, product, mean,
// difference, scaled sum, largest or smallest of their inputs' values, or
// the input a concatenation takes the value from, checked against the
// network's own value.
import { state, fmt, esc } from "./state.js";

// mergeCalc shows a merge of a graph at the pixel: its inputs' values and
// their sum, product, mean, difference or scaled sum (an input of size 1 along an axis is read at
// 0 there: the merge repeats it), or the input a concatenation takes the
// value from.
export function mergeCalc(d, l, y, x, value) {
  const m = state.model;
  const parts = l.inbound.map((j) => ({ name: j < 0 ? "input" : m.layers[j].name, shape: j < 0 ? m.input_shape : m.layers[j].output_shape, t: j < 0 ? state.input : state.values[j] }));
  if (l.type === "Concatenate") return concatCalc(d, l, parts, y, x, value);
  const op = { Add: [" + ", "added"], Multiply: [" × ", "multiplied"], Average: [" + ", "averaged"], Subtract: [" − ", "the second subtracted from the first"] }[l.type];
  let repeated = false;
  for (const p of parts) {
    const [h, w, c] = p.shape;
    p.v = p.t.v[((h === 1 ? 0 : y) * w + (w === 1 ? 0 : x)) * c + (c === 1 ? 0 : d.channel)];
    p.repeated = p.shape.join() !== l.output_shape.join();
    p.label = esc(p.name) + (p.repeated ? ", repeated" : "");
    repeated = repeated || p.repeated;
  }
  if (l.type === "Maximum" || l.type === "Minimum") return extremumCalc(l, parts, value);
  if (l.type === "ScaledAdd") return scaledAddCalc(l, parts, value);
  if (!op) return `<div class="eq">${parts.map((p) => `${p.label}: ${fmt(p.v)}`).join("<br>")}<br>${l.type} → <b>${fmt(value)}</b></div>`;
  let r = parts.slice(1).reduce((a, p) => (l.type === "Multiply" ? a * p.v : l.type === "Subtract" ? a - p.v : a + p.v), parts[0].v);
  let expr = parts.map((p) => `${fmt(p.v)} (${p.label})`).join(op[0]);
  if (l.type === "Average") {
    r /= parts.length;
    expr = `(${expr}) / ${parts.length}`;
  }
  const why = l.type === "Add" && !repeated ? "A skip connection: the" : "The";
  return `<p>${why} values of the same pixel and channel in each input, ${op[1]}.` +
    `${repeated ? " An input of size 1 along an axis has one value along it, used at every position (a 1×1 map: its channel's one value at every pixel)." : ""}</p>` +
    `<div class="eq">${expr} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// scaledAddCalc shows a ScaledAdd at the pixel: its first input's value
// plus its second's times the scale (parts, read by mergeCalc).
function scaledAddCalc(l, parts, value) {
  const [x, up] = parts, scale = l.config.scale;
  const r = x.v + Math.fround(up.v * scale);
  return `<p>The values of the same pixel and channel in each input: the second, a residual branch, scaled by ${fmt(scale)} and added to the first, the shortcut (Inception-ResNet's).</p>` +
    `<div class="eq">${fmt(x.v)} (${x.label}) + ${fmt(up.v)} (${up.label}) × ${fmt(scale)} = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// extremumCalc shows a Maximum or Minimum at the pixel: its inputs' values
// (parts, read by mergeCalc) and the largest or smallest of them.
function extremumCalc(l, parts, value) {
  const max = l.type === "Maximum";
  const r = (max ? Math.max : Math.min)(...parts.map((p) => p.v));
  return `<p>The values of the same pixel and channel in each input: the ${max ? "largest" : "smallest"} passes, the others are dropped.</p>` +
    `<div class="eq">${max ? "max" : "min"}(${parts.map((p) => `${fmt(p.v)} (${p.label})`).join(", ")}) = <b data-v="${r}">${fmt(r)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
}

// concatCalc shows the input a concatenation takes the value at (y, x,
// channel) from: Keras's axis 1, 2 or 3 (-1) joins the rows, columns or
// channels.
function concatCalc(d, l, parts, y, x, value) {
  const axis = (l.config && l.config.axis) ?? -1;
  const k = (axis < 0 ? axis + 4 : axis) - 1, at = [y, x, d.channel];
  for (const p of parts) {
    if (at[k] < p.shape[k]) {
      const [, w, c] = p.shape, v = p.t.v[(at[0] * w + at[1]) * c + at[2]];
      return `<p>A concatenation of the inputs' ${["rows", "columns", "channels"][k]}: this value is ${["row", "column", "channel"][k]} ${at[k]} of ${esc(p.name)}.</p>` +
        `<div class="eq">${esc(p.name)} (row ${at[0]}, column ${at[1]}, channel ${at[2]}) = <b data-v="${v}">${fmt(v)}</b><br>network's value: <b data-v="${value}">${fmt(value)}</b></div>`;
    }
    at[k] -= p.shape[k];
  }
  return "";
}
