// What a channel looks for: an input it responds to strongly, found by
// gradient ascent on the server (GET .../layers/I/pattern), shown in the
// detail view beside its feature map.
import { $, state, fmt } from "./state.js";
import { getJSON, decodeBase64 } from "./api.js";

// showPattern fetches and shows the pattern of channel ch of layer li,
// unless the detail view has moved on by the time it comes.
export async function showPattern(li, ch) {
  const m = state.model;
  $("patternBox").hidden = true;
  let p;
  try {
    p = await getJSON(`/api/models/${m.name}/layers/${li}/pattern?channel=${ch}`);
  } catch (err) {
    return; // the drawer works without it
  }
  const d = state.detail;
  if (!d || d.shown !== li || d.channel !== ch || state.model !== m) return;
  drawPattern($("patternMap"), p);
  const last = li === m.layers.length - 1;
  let what = `An input that ${p.name}'s channel ${ch} responds to strongly`;
  if (last) {
    const cls = m.classes[ch];
    what = `What the network takes ${cls.glyph ? `${cls.glyph} (${cls.short})` : cls.name} to look like`;
  }
  $("patterncap").textContent = p.end > p.start
    ? `${what}: ${last ? "its score" : "the channel's mean"} went from ${fmt(p.start)} to ${fmt(p.end)} in 30 steps of gradient ascent from faint noise, each step moving the image along the gradient (as Keras's "Visualizing what convnets learn").`
    : `Gradient ascent from noise found no input that raises ${p.name}'s channel ${ch}: it stays at ${fmt(p.end)}.`;
  $("patternBox").hidden = false;
}

// drawPattern paints a pattern answer (H*W*C bytes; grey when C is 1, its
// first three channels as RGB otherwise) on a canvas of its size.
export function drawPattern(cv, p) {
  const [h, w, c] = p.shape;
  cv.width = w;
  cv.height = h;
  const px = decodeBase64(p.data);
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) img.data[i * 4 + k] = px[i * c + (c >= 3 ? k : 0)];
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
