// A link to what the page shows. The address's fragment (#m=...&s=...)
// follows the page: the model, the drawing (its strokes, or the test image
// on the pad; not a picture, which stays on this computer), the saliency
// and regions toggles, and the detail view's layer, channel and pixel. The
// address bar is thus always a link to the view, and opening it shows the
// same drawing, through the same layers, to the same pixel.
import { $, state } from "./state.js";
import { decodeBase64 } from "./api.js";

// Points and widths are kept on a grid of 1/8 and 1/16 pad pixel (draw.js
// rounds them so), which the link holds exactly.
const XY = 8, WIDTH = 16, OFFSET = 32768;

function b64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const unb64 = (s) => decodeBase64(s.replace(/-/g, "+").replace(/_/g, "/"));

// encodeStrokes packs the strokes: their count, then for each its width,
// its number of points and the points, all uint16 little endian, the
// coordinates offset by 32768 on the 1/8 grid.
function encodeStrokes(strokes) {
  const n = strokes.reduce((a, s) => a + 4 + 4 * s.points.length, 2);
  const v = new DataView(new ArrayBuffer(n));
  let o = 0;
  const put = (x) => { v.setUint16(o, Math.max(0, Math.min(65535, Math.round(x))), true); o += 2; };
  put(strokes.length);
  for (const s of strokes) {
    put(s.width * WIDTH);
    put(s.points.length);
    for (const [x, y] of s.points) { put(x * XY + OFFSET); put(y * XY + OFFSET); }
  }
  return b64(new Uint8Array(v.buffer));
}

function decodeStrokes(text) {
  const bytes = unb64(text);
  const v = new DataView(bytes.buffer);
  let o = 0;
  const get = () => { if (o + 2 > bytes.length) throw new Error("the drawing is cut short"); const x = v.getUint16(o, true); o += 2; return x; };
  const strokes = [];
  for (let n = get(); n > 0; n--) {
    const s = { width: get() / WIDTH, points: [] };
    for (let k = get(); k > 0; k--) s.points.push([(get() - OFFSET) / XY, (get() - OFFSET) / XY]);
    strokes.push(s);
  }
  return strokes;
}

// fragment returns the page's state as the address's fragment.
export function fragment() {
  const m = state.model, pad = state.pad, p = new URLSearchParams();
  if (!m) return "";
  p.set("m", m.name);
  const bg = pad.background;
  if (pad.strokes.length && !(bg && !bg.sample)) p.set("s", encodeStrokes(pad.strokes));
  if (bg && bg.sample && bg.sample.pixels.length <= 16384) {
    const { h, w, c, pixels } = bg.sample;
    p.set("i", `${h}.${w}.${c}.${b64(Uint8Array.from(pixels))}`);
  }
  if ($("saliency").checked) p.set("sal", "1");
  if ($("cam").checked) {
    p.set("cam", $("cammethod").value);
    if ($("camlayer").value !== "") p.set("cl", $("camlayer").value);
  }
  const d = state.detail;
  if (d) {
    p.set("d", `${d.shown}.${d.channel}`);
    if (d.pixel) p.set("px", d.pixel.join("."));
  }
  return p.toString();
}

// updateLink puts the page's state in the address, in place (no new entry
// in the history).
export function updateLink() {
  if (!state.model || state.restoring) return;
  const f = fragment();
  history.replaceState(null, "", f ? "#" + f : location.pathname + location.search);
}

// linked returns what the address's fragment asks for, or null.
export function linked() {
  if (location.hash.length < 2) return null;
  return new URLSearchParams(location.hash.slice(1));
}

// restore shows what the fragment p asks for on the model just loaded:
// the drawing, the toggles, then the detail view. A part it cannot read is
// left out, and said.
export function restore(p, openDetail) {
  const m = state.model, pad = state.pad, problems = [];
  state.restoring = true;
  try {
    if (p.get("i")) {
      const [h, w, c, data] = p.get("i").split(".");
      if (!(h >= 1 && h <= 512 && w >= 1 && w <= 512 && ["1", "3", "4"].includes(c))) throw new Error(`the test image's size ${h}×${w}×${c}`);
      const pixels = unb64(data || "");
      if (pixels.length !== h * w * c) throw new Error(`the test image holds ${pixels.length} values, not ${h}×${w}×${c}`);
      pad.setImage(Array.from(pixels), Number(h), Number(w), Number(c));
    }
    if (p.get("s")) {
      pad.strokes.push(...decodeStrokes(p.get("s")));
      pad.redraw();
      pad.onChange(true);
    }
  } catch (err) {
    problems.push("the drawing (" + err.message + ")");
  }
  $("saliency").checked = p.get("sal") === "1";
  if (p.get("cam")) {
    $("cam").checked = true;
    if ([...$("cammethod").options].some((o) => o.value === p.get("cam") && !o.disabled)) $("cammethod").value = p.get("cam");
    if (p.get("cl") && [...$("camlayer").options].some((o) => o.value === p.get("cl"))) $("camlayer").value = p.get("cl");
    $("cammethod").dispatchEvent(new Event("change"));
  }
  const [li, ch] = (p.get("d") || "").split(".").map(Number);
  if (p.get("d")) {
    const l = m.layers[li];
    if (!l || !(ch >= 0 && ch < l.output_shape[l.output_shape.length - 1])) problems.push(`layer ${p.get("d")}`);
    else {
      openDetail(li, ch);
      const [y, x] = (p.get("px") || "").split(".").map(Number);
      const d = state.detail;
      if (d && d.pixel && y >= 0 && x >= 0 && y < l.output_shape[0] && x < l.output_shape[1]) d.pixel = [y, x];
    }
  }
  state.restoring = false;
  updateLink();
  return problems;
}

// setupLink keeps the address up to date and copies it on demand.
export function setupLink() {
  document.addEventListener("convnet:view", updateLink);
  for (const id of ["saliency", "cam", "cammethod", "camlayer"]) $(id).addEventListener("change", updateLink);
  $("link").addEventListener("click", async () => {
    updateLink();
    try {
      await navigator.clipboard.writeText(location.href);
      $("link").textContent = "✓ Copied";
    } catch {
      $("link").textContent = "Copy the address";
    }
    setTimeout(() => { $("link").textContent = "↗ Link"; }, 2000);
  });
}
