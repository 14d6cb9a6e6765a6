// The convolution (or pooling) at work: its window slides over the input
// map position by position, and the output map fills in with each value;
// the arithmetic below follows the window (play, pause, step, reset).
import { $, state } from "./state.js";
import { paint } from "./colormap.js";
import { scaleOf } from "./layers.js";
import { inShape, inputIndex, windowOf, convolves } from "./calc.js";

let timer = null, onStep = () => {};

export function setupSlide(render) {
  onStep = render;
  $("slidePlay").addEventListener("click", () => (timer ? stopSlide() : play()));
  $("slideStep").addEventListener("click", () => { stopSlide(); step(); });
  $("slideReset").addEventListener("click", () => {
    stopSlide();
    const d = state.detail;
    if (d) { d.slide = 0; d.pixel = [0, 0]; onStep(); }
  });
}

function play() {
  const d = state.detail;
  if (!d) return;
  const [h, w] = state.model.layers[d.layer].output_shape;
  if (d.slide == null || d.slide >= h * w - 1) { d.slide = -1; }
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
  const [h, w] = state.model.layers[d.layer].output_shape;
  const next = (d.slide == null ? -1 : d.slide) + 1;
  if (next >= h * w) return false;
  d.slide = next;
  d.pixel = [Math.floor(next / w), next % w];
  onStep();
  return true;
}

// renderSlide draws the input channel with the window at the selected
// pixel, and the output map filled in up to it (all of it when the window
// has not moved yet).
export function renderSlide() {
  const d = state.detail;
  if (!d || !d.pixel || $("slide").hidden) return;
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
  const ctx = cin.getContext("2d");
  const sy = cin.height / H, sx = cin.width / W;
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#ffd43b";
  const top = y * win.s[0] - win.pt, left = x * win.s[1] - win.pl;
  ctx.strokeRect(left * sx, top * sy, win.span[1] * sx, win.span[0] * sy);
  if (dilated) {
    // The taps the kernel reads, inside the span.
    ctx.lineWidth = 1;
    for (let a = 0; a < win.k[0]; a++) {
      for (let b = 0; b < win.k[1]; b++) ctx.strokeRect((left + b * win.d[1]) * sx, (top + a * win.d[0]) * sy, sx, sy);
    }
  }
  // Output filled in up to the window's position.
  const [h, w] = l.output_shape;
  const upto = d.slide == null ? h * w : d.slide + 1;
  drawChannel($("slideOut"), out, d.channel, upto);
  const octx = $("slideOut").getContext("2d");
  const oy = $("slideOut").height / h, ox = $("slideOut").width / w;
  octx.lineWidth = 2;
  octx.strokeStyle = "#ffd43b";
  octx.strokeRect(x * ox, y * oy, ox, oy);
  $("slideOut").dataset.filled = upto;
}

// bestChannel is the input channel that feeds output channel d.channel
// most, or the one that feeds it, for a depthwise convolution.
function bestChannel(d) {
  return d.rank && d.rank.length ? d.rank[0][0] : d.kernel ? d.kernel.input_channel : 0;
}

// drawChannel paints channel ch of t on cv, cells from index upto on
// (row by row) left dark grey.
function drawChannel(cv, t, ch, upto) {
  const [h, w, c] = t.shape.length === 3 ? t.shape : [1, t.shape[0], 1];
  const { div, top } = scaleOf(t);
  const off = new OffscreenCanvas(w, h);
  const octx = off.getContext("2d");
  const img = octx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    if (upto != null && i >= upto) {
      img.data.set([40, 44, 52, 255], i * 4);
      continue;
    }
    paint(img.data, i, t.v[i * c + ch] / top, div);
  }
  octx.putImageData(img, 0, 0);
  const ctx = cv.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, cv.width, cv.height);
}
