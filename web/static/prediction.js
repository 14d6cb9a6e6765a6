// Section 3, the prediction: the most likely classes, a small copy of the
// first that stays in view while the page scrolls, and what label
// smoothing does to the probabilities.
import { $, state, esc } from "./state.js";

export function renderTop(top, m) {
  const ol = $("top");
  ol.innerHTML = "";
  let sum = 0;
  for (const p of top) {
    sum += p.probability;
    const cls = m.classes[p.label];
    const li = document.createElement("li");
    const big = cls.glyph || (cls.short.length <= 2 ? cls.short : "");
    li.innerHTML = `<span class="glyph">${esc(big)}</span><span class="name">${esc(cls.glyph ? cls.short : big ? "" : cls.name)}</span>` +
      `<span class="bar"><span style="width:${(p.probability * 100).toFixed(1)}%"></span></span><span class="pct">${(p.probability * 100).toFixed(1)}%</span>`;
    li.dataset.probability = p.probability;
    li.dataset.label = p.label;
    ol.append(li);
  }
  ol.dataset.sum = sum;
  renderMini(top, m);
}

export function clearTop() {
  $("top").innerHTML = "";
  $("mini").hidden = true;
  miniTop = null;
}

// The mini prediction shows while the drawing and the prediction are out
// of view.
let miniTop = null, topInView = true;
function renderMini(top, m) {
  miniTop = top.length ? top[0] : null;
  const b = $("mini");
  if (!miniTop) { b.hidden = true; return; }
  const cls = m.classes[miniTop.label];
  b.innerHTML = `<canvas width="32" height="32"></canvas><span class="glyph">${esc(cls.glyph || cls.short)}</span>` +
    `<span>${esc(cls.glyph ? cls.short : "")} ${(miniTop.probability * 100).toFixed(0)}%</span>`;
  const cv = b.querySelector("canvas");
  cv.getContext("2d").drawImage($("input"), 0, 0, 32, 32);
  b.hidden = topInView;
}

export function setupMini() {
  new IntersectionObserver((entries) => {
    topInView = entries[0].isIntersecting;
    $("mini").hidden = topInView || !miniTop;
  }).observe($("top-section"));
  $("mini").addEventListener("click", () => {
    window.scrollTo({ top: 0, behavior: "smooth" });
  });
}

// smoothing explains the ceiling label smoothing puts on the
// probabilities: the training targets are 1-e+e/K for the class and e/K
// for the others, so the loss cannot go below their entropy.
export function smoothing(m) {
  const e = m.label_smoothing, K = m.classes.length;
  if (!e) return null;
  const hi = 1 - e + e / K, lo = e / K;
  const floor = -(hi * Math.log(hi) + (K - 1) * lo * Math.log(lo));
  return { e, hi, floor };
}

export function setupSmoothing(m) {
  const s = smoothing(m);
  const el = $("smoothhint");
  el.hidden = !s;
  if (s) el.textContent = `Why not 100%? The model was trained with label smoothing ${s.e}: it learnt to give the right class ` +
    `${(s.hi * 100).toFixed(1)}% and share the rest, so even a perfect drawing scores near that.`;
}
