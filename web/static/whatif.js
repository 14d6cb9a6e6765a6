// What if a convolution had another stride, padding or dilation: the same
// kernel slid over the same input with the geometry chosen, the size of
// the map it makes (Keras's rules for "valid" and "same"), and the map
// itself, computed here from the exact values and the kernel, the
// activation applied by the server with the network's code.
import { $, state } from "./state.js";
import { getJSON } from "./api.js";
import { inShape, windowOf, contributions, layerInput } from "./calc.js";

let onValues = () => {};

// setupWhatIf calls chosen when the choices change, and render when a
// map's activated values come.
export function setupWhatIf(chosen, render) {
  onValues = render;
  for (const id of ["wiStride", "wiPad", "wiDilation"]) $(id).addEventListener("change", () => chosen());
  $("wiReset").addEventListener("click", () => { resetWhatIf(); chosen(); });
}

// whatIfLayer tells whether the what-if applies to layer l: a convolution
// that slides a kernel of its own (not a Dense layer on each pixel).
const whatIfLayer = (l) => l.type === "Conv2D" || l.type === "DepthwiseConv2D";

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
  options($("wiStride"), pair(win.s), ["1", "2", "3", "4"]);
  options($("wiDilation"), pair(win.d), ["1", "2", "3"]);
  const pad = ownPadding(d.layer);
  options($("wiPad"), pad, ["valid", "same"]);
  $("wiPad").querySelector(`option[value="${pad}"]`).textContent = pad === "valid" || pad === "same" ? pad : `${pad} (the layer's own)`;
  if (d) d.whatif = null;
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
  const s = parsePair($("wiStride").value), d = parsePair($("wiDilation").value), pad = $("wiPad").value;
  const pairEq = (a, b) => a[0] === b[0] && a[1] === b[1];
  if (pairEq(s, own.s) && pairEq(d, own.d) && pad === ownPadding(li)) return null;
  const [H, W] = inShape(li);
  const span = [(own.k[0] - 1) * d[0] + 1, (own.k[1] - 1) * d[1] + 1];
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
  const g = { k: own.k, s, d, span, pt: r.before, pb: r.after, pl: c.before, pr: c.after, shape: [r.out, c.out], pad, n: [H, W] };
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
      return `⌈${n} / ${s}⌉ = ${g.shape[i]}` + (total ? ` (${total} zero${total === 1 ? "" : "s"} added: ${before} before, ${total - before} after)` : "");
    }
    const p = i === 0 ? g.pt + g.pb : g.pl + g.pr;
    return `⌊(${n}${p ? ` + ${p}` : ""} − ${span}) / ${s}⌋ + 1 = ${g.shape[i]}`;
  };
  const dilated = g.d[0] > 1 || g.d[1] > 1 ? `, its taps ${g.d.join("×")} apart: a span of ${g.span.join("×")}` : "";
  const why = g.pad === "same" ? `"same" padding keeps ⌈input / stride⌉ (TensorFlow's rule: any odd zero goes after, where PyTorch's padding pads both sides alike)` : g.pad === "valid" ? `"valid" padding: no zeros, the window stays inside the map` : `${g.pt} zero${g.pt === 1 ? "" : "s"} above and below, ${g.pl} left and right`;
  return `The same ${g.k.join("×")} kernel${dilated}. ${why}. Rows: ${rows(0)}; columns: ${rows(1)}.`;
}

// whatIf returns the map of the open channel with geometry g: {shape,
// z, values} (values null while the server applies the activation), or
// null before the exact values have come.
export function whatIf(d, g) {
  const input = layerInput(d.layer), k = d.kernel;
  if (!input || !input.full || !k) return null;
  const key = `${state.updates}/${d.layer}/${d.channel}/${g.s}/${g.d}/${g.pad}`;
  if (d.whatif && d.whatif.key === key) return d.whatif;
  const [h, w] = g.shape;
  const z = new Float64Array(Math.max(h, 0) * Math.max(w, 0));
  const win = { k: g.k, s: g.s, d: g.d, pt: g.pt, pl: g.pl };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) z[y * w + x] = contributions(d.layer, k, y, x, win).reduce((a, b) => a + b, 0) + (k.bias || 0);
  }
  const l = state.model.layers[d.layer];
  const act = (l.config && l.config.activation) || "linear";
  d.whatif = { key, shape: g.shape, z, values: act === "linear" || !z.length ? z : null };
  if (!d.whatif.values) activate(d, d.whatif);
  return d.whatif;
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
