// The confusion matrix's cells: the stored test images of a cell (which
// load into the pad), a tooltip, and moving between cells with the keys.
import { $, state, className, isolate } from "./state.js";
import { getJSON, decodeBase64 } from "./api.js";
import { putGrey } from "./seen.js";

let pad = null;
let cursor = [0, 0];

export function setupConfusion(thePad) {
  pad = thePad;
  const cv = $("confusion");
  cv.addEventListener("click", (e) => {
    const cell = cellAt(e);
    if (cell) showSamples(cell);
  });
  cv.addEventListener("mousemove", (e) => tooltip(cellAt(e), e.clientX, e.clientY));
  cv.addEventListener("mouseleave", () => ($("tooltip").hidden = true));
  cv.addEventListener("keydown", (e) => {
    const g = state.confusion;
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!g) return;
    if (step) {
      e.preventDefault();
      cursor = [Math.max(0, Math.min(g.n - 1, cursor[0] + step[0])), Math.max(0, Math.min(g.n - 1, cursor[1] + step[1]))];
      const r = cv.getBoundingClientRect(), k = r.width / cv.width;
      tooltip(cursor, r.left + (g.left + (cursor[1] + 1) * g.cell) * k, r.top + (g.top + (cursor[0] + 1) * g.cell) * k);
      drawCursor();
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      showSamples(cursor);
    }
  });
  cv.addEventListener("blur", () => ($("tooltip").hidden = true));
}

function drawCursor() {
  const g = state.confusion;
  const ctx = $("confusion").getContext("2d");
  ctx.strokeStyle = "#1d2230";
  ctx.lineWidth = 2;
  ctx.strokeRect(g.left + cursor[1] * g.cell - 1, g.top + cursor[0] * g.cell - 1, g.cell + 1, g.cell + 1);
}

function cellAt(e) {
  const g = state.confusion;
  if (!g) return null;
  const cv = $("confusion");
  const r = cv.getBoundingClientRect();
  const x = (e.clientX - r.left) * (cv.width / r.width), y = (e.clientY - r.top) * (cv.height / r.height);
  const p = Math.floor((x - g.left) / g.cell), t = Math.floor((y - g.top) / g.cell);
  return p >= 0 && p < g.n && t >= 0 && t < g.n ? [t, p] : null;
}

function tooltip(cell, x, y) {
  const tip = $("tooltip"), ev = state.evaluation, m = state.model;
  if (!cell || !ev) { tip.hidden = true; return; }
  tip.hidden = false;
  tip.style.left = Math.min(x + 12, innerWidth - 220) + "px";
  tip.style.top = y + 12 + "px";
  tip.textContent = `true ${isolate(className(m, cell[0]))}, predicted ${isolate(className(m, cell[1]))}: ${ev.matrix[cell[0]][cell[1]]}`;
}

async function showSamples(cell) {
  const m = state.model;
  cursor = cell;
  const box = $("samples");
  let ans;
  try {
    ans = await getJSON(`/api/models/${m.name}/evaluation/samples?true=${cell[0]}&pred=${cell[1]}`);
  } catch (err) {
    box.textContent = err.message;
    return;
  }
  box.innerHTML = "";
  const head = document.createElement("p");
  head.className = "hint";
  head.style.width = "100%";
  head.textContent = `True ${isolate(className(m, cell[0]))}, predicted ${isolate(className(m, cell[1]))}: ${ans.count} test image${ans.count === 1 ? "" : "s"}` +
    (ans.samples.length ? (ans.samples.length < ans.count ? `, ${ans.samples.length} stored.` : ".") + " Click one to load it into the pad." : ", none stored.");
  box.append(head);
  const [h, w, c] = ans.image_shape;
  for (const s of ans.samples) {
    const px = decodeBase64(s.pixels);
    const cv = document.createElement("canvas");
    cv.width = w; cv.height = h;
    cv.className = "sample";
    cv.title = `test image #${s.index}`;
    cv.tabIndex = 0;
    cv.setAttribute("role", "button");
    putGrey(cv, w, h, (i) => px[i * c]);
    const load = () => { pad.setImage(px, h, w, c); window.scrollTo({ top: 0, behavior: "smooth" }); };
    cv.addEventListener("click", load);
    cv.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); load(); } });
    box.append(cv);
  }
}
