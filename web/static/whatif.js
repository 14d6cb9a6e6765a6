// What if a convolution had another stride, padding or dilation, or a
// pooling another window, stride or padding: the same kernel (or the same
// maximum or mean) slid over the same input with the geometry chosen, the
// size of the map it makes (Keras's rules for "valid" and "same"), and the
// map itself, computed here from the exact values and the kernel, the
// activation applied by the server with the network's code.
import { $, state } from "./state.js";
import { getJSON } from "./api.js";
import { inShape, windowOf, contributions, layerInput } from "./calc.js";

let onValues = () => {};

// setupWhatIf calls chosen when the choices change, and render when a
// map's activated values come.
export function setupWhatIf(chosen, render) {
  onValues = render;
  for (const id of ["wiSize", "wiStride", "wiPad", "wiDilation"]) $(id).addEventListener("change", () => chosen());
  $("wiReset").addEventListener("click", () => { resetWhatIf(); chosen(); });
}

// whatIfLayer tells whether the what-if applies to layer l: a convolution
// that slides a kernel of its own (not a Dense layer on each pixel), or a
// pooling whose window may take another size.
const whatIfLayer = (l) => l.type === "Conv2D" || l.type === "DepthwiseConv2D" || pools(l);
const pools = (l) => l.type === "MaxPooling2D" || l.type === "AveragePooling2D";

// resetWhatIf sets the choices to the open layer's own geometry.
export function resetWhatIf() {
  const d = state.detail;
  const l = d && state.model.layers[d.layer];
  $("whatif").hidden = !l || !whatIfLayer(l) || !windowOf(d.layer);
  if ($("whatif").hidden) return;
  const win = windowOf(d.layer);
  const pair = (v) => (v[0] === v[1] ? String(v[0]) : v.join("×"));
  const options = (sel, own, values) => {
    sel.replaceChildren(...[...new Set([...values, own])].map((v) => new Option(v, v)));
    sel.value = own;
  };
  options($("wiSize"), pair(win.k), ["1", "2", "3", "4"]);
  options($("wiStride"), pair(win.s), ["1", "2", "3", "4"]);
  options($("wiDilation"), pair(win.d), ["1", "2", "3"]);
  // A convolution's kernel is its own size; a pooling has no dilation.
  $("wiSize").parentElement.hidden = !pools(l);
  $("wiDilation").parentElement.hidden = pools(l);
  const pad = ownPadding(d.layer);
  options($("wiPad"), pad, ["valid", "same"]);
  $("wiPad").querySelector(`option[value="${pad}"]`).textContent = pad === "valid" || pad === "same" ? pad : `${pad} (the layer's own)`;
  d.whatif = null;
  d.wiSlide = null;
}

// ownPadding names the open layer's padding: "valid", "same", or its
// zero rows and columns before the map ("1×2").
function ownPadding(li) {
  const l = state.model.layers[li];
  if (l.config && (l.config.padding === "valid" || l.config.padding === "same")) return l.config.padding;
  const win = windowOf(li);
  return win.pt === 0 && win.pl === 0 ? "valid" : `${win.pt}×${win.pl}`;
}

const parsePair = (v) => {
  const [a, b] = v.split("×").map(Number);
  return [a, b === undefined ? a : b];
};

// geometry returns the window the choices make for layer li, with the
// output's size and the zero rows and columns around the input, or null
// when the choices are the layer's own.
export function geometry(li) {
  if ($("whatif").hidden) return null;
  const own = windowOf(li);
  const k = parsePair($("wiSize").value), s = parsePair($("wiStride").value), d = parsePair($("wiDilation").value), pad = $("wiPad").value;
  const pairEq = (a, b) => a[0] === b[0] && a[1] === b[1];
  if (pairEq(k, own.k) && pairEq(s, own.s) && pairEq(d, own.d) && pad === ownPadding(li)) return null;
  const [H, W] = inShape(li);
  const span = [(k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1];
  const axis = (n, i) => {
    if (pad === "same") {
      // TensorFlow's rule: the output ⌈n / s⌉, the padding it needs split
      // with the odd one after.
      const out = Math.ceil(n / s[i]);
      const total = Math.max((out - 1) * s[i] + span[i] - n, 0);
      return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
    }
    const p = pad === "valid" ? 0 : parsePair(pad)[i]; // the layer's own, on both sides
    return { out: Math.floor((n + 2 * p - span[i]) / s[i]) + 1, before: p, after: p };
  };
  const r = axis(H, 0), c = axis(W, 1);
  const g = { pool: pools(state.model.layers[li]), k, s, d, span, pt: r.before, pb: r.after, pl: c.before, pr: c.after, shape: [r.out, c.out], pad, n: [H, W] };
  if (Math.max(...s) > 1 && Math.max(...d) > 1) {
    g.refused = "Keras (and convnet) refuse a stride above 1 with a dilation above 1: choose one or the other (PyTorch allows both).";
  }
  return g;
}

// sizeLine explains the output's size for the geometry g.
export function sizeLine(g) {
  if (g.refused) return g.refused;
  const rows = (i) => {
    const n = g.n[i], s = g.s[i], span = g.span[i];
    if (g.pad === "same") {
      const total = (i === 0 ? g.pt + g.pb : g.pl + g.pr), before = i === 0 ? g.pt : g.pl;
      const cells = g.pool ? `padding cell${total === 1 ? "" : "s"}` : `zero${total === 1 ? "" : "s"}`;
      return `⌈${n} / ${s}⌉ = ${g.shape[i]}` + (total ? ` (${total} ${cells} added: ${before} before, ${total - before} after)` : "");
    }
    const p = i === 0 ? g.pt + g.pb : g.pl + g.pr;
    return `⌊(${n}${p ? ` + ${p}` : ""} − ${span}) / ${s}⌋ + 1 = ${g.shape[i]}`;
  };
  const dilated = g.d[0] > 1 || g.d[1] > 1 ? `, its taps ${g.d.join("×")} apart: a span of ${g.span.join("×")}` : "";
  const cell = g.pool ? "padding cell" : "zero";
  const why = g.pad === "same"
    ? `"same" padding keeps ⌈input / stride⌉ (TensorFlow's rule: any odd ${cell} goes after, where PyTorch's padding pads both sides alike)` +
      (g.pool ? "; the padding counts for nothing: the maximum or mean is of the cells inside the map, as in Keras" : "")
    : g.pad === "valid" ? `"valid" padding: no ${cell}s, the window stays inside the map`
    : `${g.pt} ${cell}${g.pt === 1 ? "" : "s"} above and below, ${g.pl} left and right`;
  const what = g.pool ? `A ${g.k.join("×")} window` : `The same ${g.k.join("×")} kernel${dilated}`;
  return `${what}. ${why}. Rows: ${rows(0)}; columns: ${rows(1)}.`;
}

// whatIf returns the map of the open channel with geometry g: {shape,
// z, values} (values null while the server applies the activation), or
// null before the exact values have come.
export function whatIf(d, g) {
  const l = state.model.layers[d.layer];
  const input = layerInput(d.layer), k = d.kernel;
  if (!input || !input.full || (!k && !g.pool)) return null;
  const key = `${state.updates}/${d.layer}/${d.channel}/${g.k}/${g.s}/${g.d}/${g.pad}`;
  if (d.whatif && d.whatif.key === key) return d.whatif;
  const [h, w] = g.shape;
  const z = new Float64Array(Math.max(h, 0) * Math.max(w, 0));
  const win = { k: g.k, s: g.s, d: g.d, pt: g.pt, pl: g.pl };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      z[y * w + x] = g.pool ? pooled(d.layer, l.type, d.channel, y, x, win) : contributions(d.layer, k, y, x, win).reduce((a, b) => a + b, 0) + (k.bias || 0);
    }
  }
  const act = (l.config && l.config.activation) || "linear";
  d.whatif = { key, shape: g.shape, z, values: act === "linear" || !z.length ? z : null };
  if (!d.whatif.values) activate(d, d.whatif);
  return d.whatif;
}

// pooled returns the maximum or the mean of channel ch over the window of
// output pixel (y, x): of the cells inside the map, as Keras's pooling
// with "same" padding counts them.
function pooled(li, type, ch, y, x, win) {
  const input = layerInput(li);
  const [H, W, C] = inShape(li);
  let max = -Infinity, sum = 0, n = 0;
  for (let a = 0; a < win.k[0]; a++) {
    const yy = y * win.s[0] + a - win.pt;
    if (yy < 0 || yy >= H) continue;
    for (let b = 0; b < win.k[1]; b++) {
      const xx = x * win.s[1] + b - win.pl;
      if (xx < 0 || xx >= W) continue;
      const v = input.v[(yy * W + xx) * C + ch];
      max = Math.max(max, v);
      sum += v;
      n++;
    }
  }
  return n === 0 ? 0 : type === "MaxPooling2D" ? max : sum / n;
}

// activate asks the server for the layer's activation of the map's values,
// at most 4096 at a time, and shows the map when they have all come.
async function activate(d, wi) {
  const out = new Float64Array(wi.z.length);
  try {
    for (let i = 0; i < wi.z.length; i += 4096) {
      const part = Array.from(wi.z.subarray(i, i + 4096));
      const a = await getJSON(`/api/models/${state.model.name}/layers/${d.layer}/activation?z=${part.join(",")}`);
      out.set(a.values, i);
    }
  } catch (err) {
    wi.error = err.message;
  }
  wi.values = out;
  if (state.detail === d && d.whatif === wi) onValues();
}
