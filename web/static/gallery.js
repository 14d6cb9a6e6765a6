// What the network takes each class to look like: the pattern of every
// class's score (gradient ascent from faint noise, GET .../pattern of the
// last layer), in the model panel, each with what the network makes of
// it. The patterns are fetched one at a time once the gallery is on
// screen, and again after each epoch of a watched run; a click opens the
// class in the last layer's detail view.
import { $, state, className, isolate, whenShown } from "./state.js";
import { getJSON } from "./api.js";
import { drawPattern } from "./pattern.js";

const most = 64; // more classes than this are left to the detail view
let gen = 0; // the current filling; an older one stops
let open = () => {};
let shown = () => {}; // runs a filling once the gallery is on screen

export function setupGallery(openDetail) {
  open = openDetail;
  shown = whenShown($("gallery"));
}

// loadGallery shows m's classes, their patterns to come. For the model
// already shown (a new epoch) the old patterns stay until new ones arrive.
export function loadGallery(m) {
  const g = ++gen;
  const grid = $("galleryGrid");
  const n = m.classes.length;
  shown(null);
  $("gallery").hidden = n > most;
  $("gallerysum").textContent = "";
  if (n > most) return;
  if (grid.dataset.model !== m.name) {
    grid.dataset.model = m.name;
    grid.innerHTML = "";
    for (let c = 0; c < n; c++) {
      const f = document.createElement("figure");
      f.className = "classpattern";
      f.dataset.class = c;
      f.tabIndex = 0;
      f.title = `what the network takes ${className(m, c)} to look like: click for the detail view`;
      f.innerHTML = `<canvas width="1" height="1"></canvas><figcaption><b></b><span></span></figcaption>`;
      f.querySelector("b").textContent = className(m, c);
      const go = () => open(m.layers.length - 1, c);
      f.addEventListener("click", go);
      f.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
      grid.append(f);
    }
  }
  grid.querySelectorAll("figure").forEach((f) => f.classList.add("stale"));
  shown(() => fill(m, g));
}

async function fill(m, g) {
  const last = m.layers.length - 1;
  let own = 0;
  for (let c = 0; c < m.classes.length; c++) {
    let p;
    try {
      p = await getJSON(`/api/models/${m.name}/layers/${last}/pattern?channel=${c}`);
    } catch (err) {
      if (g === gen) $("gallerysum").textContent = `A pattern could not be computed: ${err.message}`;
      return;
    }
    if (g !== gen || state.model !== m) return; // another model or epoch took over
    const f = $("galleryGrid").querySelector(`figure[data-class="${c}"]`);
    drawPattern(f.querySelector("canvas"), p);
    const t = p.top[0];
    const right = t && t.label === c;
    own += right;
    f.classList.remove("stale");
    f.classList.toggle("wrong", !right);
    f.dataset.top = t ? t.label : "";
    f.querySelector("span").textContent = !t ? "" : right
      ? `${(t.probability * 100).toFixed(0)}%`
      : `→ ${isolate(className(m, t.label))}`;
  }
  $("gallerysum").textContent = `The network takes ${own} of these ${m.classes.length} patterns for their own class` +
    (own < m.classes.length ? "; orange ones it reads as another (named under them)." : ".");
}
