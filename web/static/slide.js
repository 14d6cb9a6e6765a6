// The convolution (or pooling) at work: its window slides over the input
// map position by position, and the output map fills in with each value;
// the arithmetic below follows the window (play, pause, step, reset). With
// another stride, padding or dilation chosen (whatif.js), the same kernel
// slides as they say over the input framed by its zeros.
import { $, state } from "./state.js";
import { paint } from "./colormap.js";
import { scaleOf } from "./layers.js";
import { inShape, inputIndex, windowOf, convolves } from "./calc.js";
import { setupWhatIf, geometry, sizeLine, whatIf } from "./whatif.js";

let timer = null, onStep = () => {};

export function setupSlide(render) {
  onStep = render;
  $("slidePlay").addEventListener("click", () => (timer ? stopSlide() : play()));
  $("slideStep").addEventListener("click", () => { stopSlide(); step(); });
  $("slideReset").addEventListener("click", () => {
    stopSlide();
    const d = state.detail;
    if (!d) return;
    if (geometry(d.layer)) d.wiSlide = 0;
    else { d.slide = 0; d.pixel = [0, 0]; }
    onStep();
  });
  setupWhatIf(() => { stopSlide(); if (state.detail) state.detail.wiSlide = null; onStep(); }, () => onStep());
}

// positions returns the output's rows and columns the window steps over
// and the slide's place among them: the layer's own, or those of the
// geometry chosen instead.
function positions(d) {
  const g = geometry(d.layer);
  if (!g) {
    const [h, w] = state.model.layers[d.layer].output_shape;
    return { h, w, at: d.slide, set: (i) => { d.slide = i; if (i >= 0) d.pixel = [Math.floor(i / w), i % w]; } };
  }
  const [h, w] = g.shape;
  return { h: Math.max(h, 0), w: Math.max(w, 0), at: d.wiSlide, set: (i) => { d.wiSlide = i; } };
}

function play() {
  const d = state.detail;
  if (!d) return;
  const { h, w, at, set } = positions(d);
  if (at == null || at >= h * w - 1) set(-1);
  $("slidePlay").textContent = "❚❚ Pause";
  $("slidePlay").setAttribute("aria-label", "pause");
  const tick = () => {
    if (!step()) { stopSlide(); return; }
    timer = setTimeout(tick, 1000 / Number($("slideSpeed").value));
  };
  tick();
}

export function stopSlide() {
  clearTimeout(timer);
  timer = null;
  $("slidePlay").textContent = "▶ Play";
  $("slidePlay").setAttribute("aria-label", "play");
}

// step moves the window to the next output position; false at the end.
function step() {
  const d = state.detail;
  if (!d) return false;
  const { h, w, at, set } = positions(d);
  const next = (at == null ? -1 : at) + 1;
  if (next >= h * w) return false;
  set(next);
  onStep();
  return true;
}

// renderSlide draws the input channel with the window at the selected
// pixel, and the output map filled in up to it (all of it when the window
// has not moved yet).
export function renderSlide() {
  const d = state.detail;
  if (!d || !d.pixel || $("slide").hidden) return;
  const g = geometry(d.layer);
  $("wihint").textContent = g ? sizeLine(g) : "";
  if (g) {
    renderWhatIf(d, g);
    return;
  }
  const m = state.model;
  const l = m.layers[d.layer];
  const win = windowOf(d.layer);
  const j = inputIndex(d.layer);
  const input = j < 0 ? state.input : state.values[j];
  const out = state.values[d.layer];
  if (!win || !input || !out) return;
  const [H, W, C] = inShape(d.layer);
  const pooling = !convolves(l);
  const ch = pooling ? d.channel : d.from != null ? d.from : bestChannel(d);
  const why = pooling || C === 1 || d.from != null ? "" : d.kernel && d.kernel.shape[2] === 1 ? " (the only one it reads)" : " (the largest part here)";
  $("slideInCap").textContent = j < 0 ? `the input${C > 1 ? `, channel ${ch}${why}` : ""}` : `${m.layers[j].name}, channel ${ch}${why}`;
  $("slideOutCap").textContent = `${l.name}, channel ${d.channel}`;
  const dilated = win.d[0] > 1 || win.d[1] > 1;
  $("slidehint").textContent = `${win.k.join("×")} window${dilated ? ` of taps ${win.d.join("×")} apart` : ""}, ${win.s.join("×")} steps${win.pt || win.pl ? `, ${win.pt} pixel${win.pt === 1 ? "" : "s"} of zero padding` : ""}`;
  // Input with the window.
  const cin = $("slideIn");
  drawChannel(cin, input, ch, null);
  const [y, x] = d.pixel;
  drawWindow(cin, H, W, y * win.s[0] - win.pt, x * win.s[1] - win.pl, win);
  // Output filled in up to the window's position.
  const [h, w] = l.output_shape;
  const upto = d.slide == null ? h * w : d.slide + 1;
  drawChannel($("slideOut"), out, d.channel, upto);
  markCell(h, w, y, x, upto);
}

// drawWindow outlines on cv, a map of H×W cells, the window whose top-left
// cell is (top, left), and the taps of a dilated kernel inside its span.
function drawWindow(cv, H, W, top, left, win) {
  const ctx = cv.getContext("2d");
  const sy = cv.height / H, sx = cv.width / W;
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#ffd43b";
  ctx.strokeRect(left * sx, top * sy, win.span[1] * sx, win.span[0] * sy);
  if (win.d[0] > 1 || win.d[1] > 1) {
    ctx.lineWidth = 1;
    for (let a = 0; a < win.k[0]; a++) {
      for (let b = 0; b < win.k[1]; b++) ctx.strokeRect((left + b * win.d[1]) * sx, (top + a * win.d[0]) * sy, sx, sy);
    }
  }
}

// markCell outlines cell (y, x) of the h×w output and records how many
// cells are filled in.
function markCell(h, w, y, x, filled) {
  const cv = $("slideOut"), ctx = cv.getContext("2d");
  const oy = cv.height / h, ox = cv.width / w;
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#ffd43b";
  ctx.strokeRect(x * ox, y * oy, ox, oy);
  cv.dataset.filled = filled;
}

// renderWhatIf draws the input channel framed by the zeros of geometry g
// with the window at the slide's place, and the map the kernel makes with
// g filled in up to it.
function renderWhatIf(d, g) {
  const l = state.model.layers[d.layer];
  const j = inputIndex(d.layer);
  const input = j < 0 ? state.input : state.values[j];
  const out = state.values[d.layer];
  const [h, w] = g.shape;
  const ch = g.pool ? d.channel : bestChannel(d);
  $("slideInCap").textContent = `${j < 0 ? "the input" : state.model.layers[j].name}, channel ${ch}${g.pt + g.pb + g.pl + g.pr ? `, framed by ${g.pool ? "the padding" : "its zeros"}` : ""}`;
  $("slideOutCap").textContent = `${l.name}, channel ${d.channel}, with these choices`;
  $("slidehint").textContent = `${g.k.join("×")} window${g.d[0] > 1 || g.d[1] > 1 ? ` of taps ${g.d.join("×")} apart` : ""}, ${g.s.join("×")} steps, ${h > 0 && w > 0 ? `a ${h}×${w} map` : "no map"}`;
  const cin = $("slideIn");
  drawChannel(cin, input, ch, null, [g.pt, g.pb, g.pl, g.pr]);
  const octx = $("slideOut").getContext("2d");
  octx.fillStyle = "#282c34";
  octx.fillRect(0, 0, $("slideOut").width, $("slideOut").height);
  if (g.refused) {
    $("slideOut").dataset.filled = 0;
    return;
  }
  if (h <= 0 || w <= 0) {
    $("wihint").textContent += ` The ${g.span.join("×")} window does not fit in the ${g.n.join("×")} map: no output.`;
    $("slideOut").dataset.filled = 0;
    return;
  }
  const wi = whatIf(d, g);
  if (!wi || !wi.values) return; // the values, or their activation, on their way
  const at = d.wiSlide == null ? Math.floor(h / 2) * w + Math.floor(w / 2) : d.wiSlide;
  const [y, x] = [Math.floor(at / w), at % w];
  // The window in the framed input's cells, the padding counted.
  drawWindow(cin, g.n[0] + g.pt + g.pb, g.n[1] + g.pl + g.pr, y * g.s[0], x * g.s[1], g);
  let min = out ? out.min : 0, max = out ? out.max : 0;
  for (const v of wi.values) { min = Math.min(min, v); max = Math.max(max, v); }
  const upto = d.wiSlide == null ? h * w : d.wiSlide + 1;
  drawChannel($("slideOut"), { shape: [h, w, 1], v: wi.values, min, max }, 0, upto);
  markCell(h, w, y, x, upto);
}

// bestChannel is the input channel that feeds output channel d.channel
// most, or the one that feeds it, for a depthwise convolution.
function bestChannel(d) {
  return d.rank && d.rank.length ? d.rank[0][0] : d.kernel ? d.kernel.input_channel : 0;
}

// drawChannel paints channel ch of t on cv, cells from index upto on
// (row by row) left dark grey; pad, rows above and below and columns left
// and right, frames it with grey cells of zeros.
function drawChannel(cv, t, ch, upto, pad = [0, 0, 0, 0]) {
  const [h, w, c] = t.shape.length === 3 ? t.shape : [1, t.shape[0], 1];
  const [pt, pb, pl, pr] = pad;
  const { div, top } = scaleOf(t);
  const PW = w + pl + pr, PH = h + pt + pb;
  const off = new OffscreenCanvas(PW, PH);
  const octx = off.getContext("2d");
  const img = octx.createImageData(PW, PH);
  for (let i = 0; i < PH * PW; i++) img.data.set([96, 102, 114, 255], i * 4);
  for (let i = 0; i < h * w; i++) {
    const at = (Math.floor(i / w) + pt) * PW + (i % w) + pl;
    if (upto != null && i >= upto) {
      img.data.set([40, 44, 52, 255], at * 4);
      continue;
    }
    paint(img.data, at, t.v[i * c + ch] / top, div);
  }
  octx.putImageData(img, 0, 0);
  const ctx = cv.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, cv.width, cv.height);
}
