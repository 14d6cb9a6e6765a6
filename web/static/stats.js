// The whole layer at a glance: how its values for the drawing spread (and
// how many a relu set to 0), and how each of its weights spreads, as
// histograms. The server bins the weights (/api/models/{name}/layers/{i}/weights);
// the page bins the values the same way.
import { $, state } from "./state.js";
import { getJSON } from "./api.js";

const BINS = 30; // web/api_weights.go's histogramBins

// num shows a statistic with three significant digits.
const num = (v) => String(Number(v.toPrecision(3)));

// distribution is web/api_weights.go's distributionOf: count, values that
// are not finite, zeros, range, mean, standard deviation and BINS
// equal-width bins from min to max (one when all values are equal), bin i
// holding edges[i] <= v < edges[i+1], the last one closed.
export function distribution(values) {
  const d = { count: 0, non_finite: 0, zeros: 0, min: Infinity, max: -Infinity, mean: 0, std: 0, edges: [], counts: [] };
  for (const v of values) {
    if (!Number.isFinite(v)) { d.non_finite++; continue; }
    d.count++;
    d.min = Math.min(d.min, v);
    d.max = Math.max(d.max, v);
    if (v === 0) d.zeros++;
  }
  if (d.count === 0) { d.min = d.max = 0; return d; }
  let sum = 0, ss = 0;
  for (const v of values) if (Number.isFinite(v)) sum += v;
  d.mean = sum / d.count;
  for (const v of values) if (Number.isFinite(v)) ss += (v - d.mean) * (v - d.mean);
  d.std = Math.sqrt(ss / d.count);
  const bins = d.min === d.max ? 1 : BINS;
  for (let i = 0; i <= bins; i++) d.edges.push(d.min + ((d.max - d.min) * i) / bins);
  d.edges[bins] = d.max;
  d.counts = new Array(bins).fill(0);
  const w = d.max - d.min;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    let i = w > 0 ? Math.floor(((v - d.edges[0]) / w) * bins) : 0;
    i = Math.max(0, Math.min(bins - 1, i));
    if (v < d.edges[i]) i--;
    else if (i < bins - 1 && v >= d.edges[i + 1]) i++;
    d.counts[i]++;
  }
  return d;
}

// drawHistogram draws d's bins as bars, the bin holding 0 in orange, with
// the range under them; the canvas keeps the counts for the tests.
function drawHistogram(cv, d) {
  const ctx = cv.getContext("2d");
  const W = cv.width, H = cv.height, base = H - 14;
  ctx.clearRect(0, 0, W, H);
  cv.dataset.counts = d.counts.join(",");
  if (!d.counts.length) return;
  const top = Math.max(...d.counts);
  const bw = W / d.counts.length;
  d.counts.forEach((c, i) => {
    const zero = d.edges[i] <= 0 && (0 < d.edges[i + 1] || (i === d.counts.length - 1 && 0 <= d.edges[i + 1]));
    ctx.fillStyle = zero ? "#f08c00" : "#4c6ef5";
    const h = c && Math.max(1, ((base - 2) * c) / top);
    ctx.fillRect(i * bw + 0.5, base - h, Math.max(1, bw - 1), h);
  });
  ctx.fillStyle = "#868e96";
  ctx.font = "10px sans-serif";
  ctx.textAlign = "left";
  ctx.fillText(num(d.min), 0, H - 2);
  ctx.textAlign = "right";
  ctx.fillText(num(d.max), W, H - 2);
}

function figure(title, d, caption) {
  const fig = document.createElement("figure");
  fig.className = "hist";
  const cv = document.createElement("canvas");
  cv.width = 240;
  cv.height = 80;
  drawHistogram(cv, d);
  const cap = document.createElement("figcaption");
  const b = document.createElement("b");
  b.textContent = title; // layer names come from the model file: text, never markup
  cap.append(b, " " + caption);
  fig.append(cv, cap);
  return fig;
}

const spread = (d) => (d.count ? `from ${num(d.min)} to ${num(d.max)}, mean ${num(d.mean)}, spread ${num(d.std)}` : "none finite") +
  (d.non_finite ? `; ${d.non_finite} not finite` : "");

// relus says whether the values shown went last through a relu.
function relus(d) {
  const l = state.model.layers[d.shown];
  if (l.type === "ReLU") return true;
  const act = l.config && l.config.activation;
  return act === "relu" || act === "relu6";
}

// deadMaps counts the channels of an image-shaped layer output whose every
// value is 0, or returns null for another shape.
function deadMaps(t) {
  if (t.shape.length !== 3) return null;
  const [h, w, c] = t.shape;
  let off = 0;
  for (let k = 0; k < c; k++) {
    let zero = true;
    for (let i = 0; i < h * w && zero; i++) zero = t.v[i * c + k] === 0;
    if (zero) off++;
  }
  return off;
}

// renderValueStats shows the distribution of the values of the layer the
// tile belongs to, for the drawing, once the page has them exactly.
export function renderValueStats(d) {
  const t = state.values[d.shown];
  const box = $("valueStats");
  if (!t || !t.full) return;
  const v = distribution(t.v);
  const l = state.model.layers[d.shown];
  const pct = v.count ? (100 * v.zeros) / v.count : 0;
  const zeros = v.zeros === 0 ? "none is 0" : relus(d)
    ? `${num(pct)}% are 0: the relu turned those off for this drawing`
    : `${num(pct)}% are 0`;
  const off = deadMaps(t);
  const maps = off === null ? "" : ` ${off} of its ${t.shape[2]} maps are 0 everywhere: what they look for is nowhere in this drawing.`;
  box.replaceChildren(figure(`${l.name}'s ${v.count + v.non_finite} values for this drawing`, v, `${spread(v)}; ${zeros}.${off ? maps : ""}`));
  box.dataset.count = v.count;
  box.dataset.zeros = v.zeros;
  box.dataset.off = off === null ? "" : String(off);
  $("statsBox").hidden = false;
}

// resetStats empties the box for another layer.
export function resetStats() {
  $("statsBox").hidden = true;
  for (const id of ["valueStats", "weightStats"]) {
    const box = $(id);
    box.replaceChildren();
    delete box.dataset.count;
    delete box.dataset.zeros;
    delete box.dataset.layer;
  }
}

// showWeightStats fetches and draws the distribution of each weight of
// the layer (none for a layer without weights).
export async function showWeightStats(layer) {
  const box = $("weightStats");
  const m = state.model;
  const ans = await getJSON(`/api/models/${m.name}/layers/${layer}/weights`);
  const d = state.detail;
  if (!d || d.layer !== layer || state.model !== m) return;
  box.replaceChildren(); // another channel of the layer may have asked too
  for (const p of ans.params) {
    const what = p.trainable ? "" : " (not trained: kept from the data)";
    box.append(figure(`${ans.name}'s ${p.name} ${p.shape.join("×")}${what}:`, p, `${p.count + p.non_finite} weights ${spread(p)}.`));
  }
  if (!ans.params.length) box.textContent = `${ans.name} has no weights.`;
  box.dataset.layer = String(layer);
  $("statsBox").hidden = false;
}
