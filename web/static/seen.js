// Section 2, what the network sees: the drawing with the ink the framing
// found, the framed image, and the standardised input the network gets;
// and the saliency map over the drawing.
import { $, state, fmt } from "./state.js";
import { decodeBase64 } from "./api.js";
import { paint } from "./colormap.js";
import { scaleOf } from "./layers.js";

export function setupSeen(m) {
  const [h, w] = m.input_shape;
  for (const id of ["input", "netinput", "salmap"]) { $(id).width = w; $(id).height = h; }
  const f = m.framing;
  $("framehint").textContent = f && f.box
    ? `Framed as the training images are: cropped to the ink, scaled so its longer side is ${f.box} of ${f.size[0]} pixels, ` +
      `and placed with its ${f.center === "mass" ? "centre of mass" : "middle"} at (${fmt(f.at[1])}, ${fmt(f.at[0])}).`
    : `Shrunk to ${h}×${w} pixels, as the training images were made.`;
  $("meanhint").textContent = m.mean_image
    ? "The network gets the framed image minus the average training image: red where there is more ink than on an average " +
      "training image, blue where there is less, so even an empty pad shows the shape of an average character in the first maps."
    : `The network gets these ${h * w * m.input_shape[2]} numbers, scaled.`;
}

// renderSeen shows the steps of the last answer.
export function renderSeen(ans, pad) {
  const m = state.model;
  const [h, w, c] = m.input_shape;
  // What you drew, with the ink the framing found.
  const dr = $("drawn").getContext("2d");
  const D = $("drawn").width, S = pad.canvas.width;
  dr.imageSmoothingEnabled = true;
  dr.drawImage(pad.canvas, 0, 0, D, D);
  const p = ans.placement;
  if (p && !p.empty && !pad.empty() && !(pad.background && pad.background.sample && !pad.strokes.length)) {
    const k = D / S;
    dr.strokeStyle = "#20c997";
    dr.lineWidth = 1.5;
    dr.setLineDash([4, 3]);
    dr.strokeRect(p.ink[1] * k, p.ink[0] * k, (p.ink[3] - p.ink[1]) * k, (p.ink[2] - p.ink[0]) * k);
    dr.setLineDash([]);
    dr.fillStyle = "#ffd43b";
    dr.beginPath();
    dr.arc(p.center[1] * k, p.center[0] * k, 3, 0, 2 * Math.PI);
    dr.fill();
  }
  // Framed: the raw input.
  const pix = decodeBase64(ans.pixels);
  putGrey($("input"), w, h, (i) => pix[i * c]);
  // What it gets: the standardised input.
  const x = state.input;
  const { div, top } = scaleOf(x);
  const ctx = $("netinput").getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) paint(img.data, i, x.v[i * c] / top, div);
  ctx.putImageData(img, 0, 0);
  $("input").dataset.thinned = p && p.thinned ? p.thinned : 0;
  renderSaliency(ans);
}

export function putGrey(cv, w, h, f) {
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const g = f(i);
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = g;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// renderSaliency shows the saliency map beside the input and over the
// drawing, put back where the framing took the ink from.
function renderSaliency(ans) {
  const m = state.model;
  const [h, w] = m.input_shape;
  const sal = $("saliency").checked && ans.saliency;
  $("salwrap").hidden = !sal;
  const ov = $("overlay").getContext("2d");
  ov.setTransform(1, 0, 0, 1, 0, 0);
  ov.clearRect(0, 0, $("overlay").width, $("overlay").height);
  if (!sal) return;
  const s = decodeBase64(sal.data);
  const cv = $("salmap");
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    // The faintest fifth is left out: the gradient is never quite zero.
    img.data[i * 4] = 255; img.data[i * 4 + 1] = 40; img.data[i * 4 + 2] = 40; img.data[i * 4 + 3] = Math.min(255, Math.max(0, s[i] - 51) * 2);
  }
  ctx.clearRect(0, 0, w, h);
  ctx.putImageData(img, 0, 0);
  // Output point q shows pad point (q-at)/scale + center.
  const p = ans.placement;
  if (p && p.scale > 0) {
    const k = 1 / p.scale;
    ov.setTransform(k, 0, 0, k, p.center[1] - p.at[1] * k, p.center[0] - p.at[0] * k);
    ov.imageSmoothingEnabled = false;
    ov.globalAlpha = 0.75;
    ov.drawImage(cv, 0, 0);
    ov.globalAlpha = 1;
    ov.setTransform(1, 0, 0, 1, 0, 0);
  }
  const cls = m.classes[sal.class];
  $("salclass").textContent = cls.glyph ? `${cls.glyph} (${cls.short})` : cls.name;
}
