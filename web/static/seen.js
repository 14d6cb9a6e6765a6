// Section 2, what the network sees: the drawing with the ink the framing
// found, the framed image, and the standardised input the network gets;
// and the saliency and class activation maps over the drawing.
import { $, state, fmt } from "./state.js";
import { decodeBase64 } from "./api.js";
import { paint } from "./colormap.js";
import { scaleOf } from "./layers.js";

export function setupSeen(m) {
  const [h, w] = m.input_shape;
  for (const id of ["input", "netinput", "salmap", "cammap"]) { $(id).width = w; $(id).height = h; }
  // The layers a class activation map may weigh: those whose output is an
  // image of more than one cell; by default the last convolution's block.
  // A model without one has no maps to weigh: only the occlusion test,
  // which hides squares of the input, applies.
  const sel = $("camlayer");
  const cam = m.cam_layer >= 0;
  for (const o of $("cammethod").options) o.disabled = !cam && o.value !== "occlusion";
  if (!cam) $("cammethod").value = "occlusion";
  $("cam").parentElement.title = cam
    ? "colour the regions whose features raise the top class (a class activation map)"
    : "colour the regions whose hiding lowers the top class (the occlusion test: this model has no convolution, no maps to weigh)";
  sel.replaceChildren(new Option(cam ? `last convolutional block: ${m.layers[m.cam_layer].name}` : "", ""));
  m.layers.forEach((l, i) => {
    const s = l.output_shape;
    if (s.length === 3 && s[0] * s[1] > 1) sel.add(new Option(`${l.name} (${s[0]}×${s[1]})`, String(i)));
  });
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
  clearOverlay();
  renderSaliency(ans);
  renderCAM(ans);
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

function clearOverlay() {
  const ov = $("overlay").getContext("2d");
  ov.setTransform(1, 0, 0, 1, 0, 0);
  ov.clearRect(0, 0, $("overlay").width, $("overlay").height);
}

// overlay draws cv, a canvas of the input's size, over the drawing, put
// back where the framing took the ink from.
function overlay(ans, cv, alpha, smooth) {
  const p = ans.placement;
  if (!p || !(p.scale > 0)) return;
  const ov = $("overlay").getContext("2d");
  // Output point q shows pad point (q-at)/scale + center.
  const k = 1 / p.scale;
  ov.setTransform(k, 0, 0, k, p.center[1] - p.at[1] * k, p.center[0] - p.at[0] * k);
  ov.imageSmoothingEnabled = smooth;
  ov.globalAlpha = alpha;
  ov.drawImage(cv, 0, 0);
  ov.globalAlpha = 1;
  ov.setTransform(1, 0, 0, 1, 0, 0);
}

function className(i) {
  const cls = state.model.classes[i];
  return cls.glyph ? `${cls.glyph} (${cls.short})` : cls.name;
}

// renderSaliency shows the saliency map beside the input and over the
// drawing.
function renderSaliency(ans) {
  const m = state.model;
  const [h, w] = m.input_shape;
  const sal = $("saliency").checked && ans.saliency;
  $("salwrap").hidden = !sal;
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
  overlay(ans, cv, 0.75, false);
  $("salclass").textContent = className(sal.class);
}

const camHeat = document.createElement("canvas");

// renderCAM shows the class activation map, the layer's cells smoothed to
// the input's size, over the framed input and over the drawing.
function renderCAM(ans) {
  const m = state.model;
  const [h, w] = m.input_shape;
  const cam = $("cam").checked && ans.cam;
  $("camwrap").hidden = !cam;
  if (!cam) return;
  const [ch, cw] = cam.shape;
  const v = decodeBase64(cam.data);
  const cells = document.createElement("canvas");
  cells.width = cw; cells.height = ch;
  const cctx = cells.getContext("2d");
  const img = cctx.createImageData(cw, ch);
  for (let i = 0; i < cw * ch; i++) {
    img.data[i * 4] = 255; img.data[i * 4 + 1] = 170; img.data[i * 4 + 2] = 0; img.data[i * 4 + 3] = v[i];
  }
  cctx.putImageData(img, 0, 0);
  camHeat.width = w; camHeat.height = h;
  const hctx = camHeat.getContext("2d");
  hctx.imageSmoothingEnabled = true;
  hctx.drawImage(cells, 0, 0, w, h);
  const ctx = $("cammap").getContext("2d");
  ctx.clearRect(0, 0, w, h);
  ctx.globalAlpha = 0.5;
  ctx.drawImage($("input"), 0, 0);
  ctx.globalAlpha = 1;
  ctx.drawImage(camHeat, 0, 0);
  overlay(ans, camHeat, 0.7, true);
  $("camlayer").hidden = cam.method === "occlusion";
  if (cam.method === "occlusion") {
    $("camhint").textContent = cam.max > 0
      ? `Orange: where hiding a square of the input (${m.mean_image ? "setting it to the average training image" : "setting what the network gets to 0"}) lowers the probability of ` +
        `${className(cam.class)} most, by up to ${fmt(100 * cam.max)} points (the occlusion test of Zeiler and Fergus).`
      : `Hiding no square of the input lowers the probability of ${className(cam.class)} (the occlusion test of Zeiler and Fergus).`;
    return;
  }
  const how = cam.method === "gradcam"
    ? "each of its maps weighed by the mean gradient of the score over the map (Grad-CAM)"
    : "each cell's features weighed by the gradient of the score at that cell (HiResCAM)";
  const where = `${cam.layer_name} (${ch}×${cw})`;
  $("camhint").textContent = cam.max > 0
    ? `Orange: the cells of ${where} whose features raise the score of ${className(cam.class)}, ${how}.`
    : `No cell of ${where} raises the score of ${className(cam.class)} by this measure, ${how}.` +
      (cam.method === "gradcam" ? " The means cancel out when a Dense layer weighs each position on its own, after a Flatten: try HiResCAM." : "");
}
