// How the network groups the test images: the evaluation's test images
// placed in the plane by t-SNE of the features the last layer reads
// (GET /api/models/NAME/embedding), coloured by class, and the drawing
// placed among its nearest test images (/api/activations?embed=1). The map
// is fetched once it is on screen; a point shows its image on hover and
// loads it into the pad on a click.
import { $, state, className, isolate, whenShown } from "./state.js";
import { getJSON, decodeBase64 } from "./api.js";
import { putGrey } from "./seen.js";

let pad = null;
let map = null; // {model, points, shape, at(x, y): the point's place on the canvas}
let shown = () => {}; // runs a fetching of the map once it is on screen
let placed = null; // the drawing's last placement
let gen = 0; // the current fetching of a map; an older one stops

export function setupEmbedding(thePad) {
  pad = thePad;
  const cv = $("embedding");
  shown = whenShown($("embedwrap"));
  cv.addEventListener("mousemove", (e) => tooltip(pointAt(e), e.clientX, e.clientY));
  cv.addEventListener("mouseleave", () => ($("tooltip").hidden = true));
  cv.addEventListener("click", (e) => {
    const i = pointAt(e);
    if (i === null || !map.points[i].pixels) return;
    const [h, w, c] = map.shape;
    pad.setImage(decodeBase64(map.points[i].pixels), h, w, c);
    window.scrollTo({ top: 0, behavior: "smooth" });
  });
}

// loadEmbedding shows m's map (again, after a watched epoch: the map of
// the new network), or hides the box for a model without one.
export function loadEmbedding(m) {
  gen++; // a map on its way is not this one
  map = state.embedding = null;
  placed = null;
  shown(null);
  $("embedwrap").hidden = !m.has_map;
  $("embedhint").textContent = "";
  clear();
  if (m.has_map) shown(() => fetchMap(m));
}

// embeddingWanted says whether the drawing's requests should ask where it
// lands: once the model's map is on screen.
export const embeddingWanted = () => map !== null && map.model === state.model;

async function fetchMap(m) {
  const g = ++gen;
  $("embedhint").textContent = "Placing the test images (t-SNE)…";
  let ans;
  try {
    // 202 while the server makes the map: ask again.
    while ((ans = await getJSON(`/api/models/${m.name}/embedding`)).status) {
      if (g !== gen) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (err) {
    if (g === gen) $("embedhint").textContent = `No map: ${err.message}`;
    return;
  }
  if (g !== gen || state.model !== m) return; // another model, or a watched epoch's map, took over
  const xs = ans.points.map((p) => p.x), ys = ans.points.map((p) => p.y);
  const cv = $("embedding"), edge = 18;
  const x0 = Math.min(...xs), y0 = Math.min(...ys);
  const k = Math.min((cv.width - 2 * edge) / (Math.max(...xs) - x0 || 1), (cv.height - 2 * edge) / (Math.max(...ys) - y0 || 1));
  map = { model: m, points: ans.points, shape: ans.image_shape, at: (x, y) => [edge + (x - x0) * k, edge + (y - y0) * k] };
  const wrong = ans.points.filter((p) => p.true !== p.pred).length;
  state.embedding = map;
  $("embedhint").textContent = `The ${ans.points.length} test images the model file keeps (up to 8 of each cell of the confusion matrix, so its mistakes are many here), ` +
    `each placed by the features ${ans.name} passes to the last layer (t-SNE, perplexity ${ans.perplexity.toFixed(0)}): images the network finds alike lie close. ` +
    `Colour: the true class; ringed: the ${wrong} the network gets wrong, which lie with the class it reads. Your drawing is the star, joined to its 5 nearest test images. ` +
    "Point at a dot to see the image, click to load it into the pad.";
  draw();
  document.dispatchEvent(new Event("convnet:need-layers")); // place the drawing
}

// colour returns class c's colour of n: hues around the circle, two
// lightnesses alternating so that neighbouring classes differ.
const colour = (c, n) => `hsl(${Math.round((c * 360) / n)}, 70%, ${c % 2 ? 38 : 52}%)`;

function clear() {
  const cv = $("embedding");
  cv.getContext("2d").clearRect(0, 0, cv.width, cv.height);
}

function draw() {
  clear();
  if (!map) return;
  const m = map.model, n = m.classes.length, ctx = $("embedding").getContext("2d");
  for (const p of map.points) {
    const [x, y] = map.at(p.x, p.y);
    ctx.beginPath();
    ctx.arc(x, y, 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = colour(p.true, n);
    ctx.fill();
    if (p.true !== p.pred) {
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#1d2230";
      ctx.stroke();
    }
  }
  // Each class's name at the median of its points.
  ctx.font = '13px "Noto Naskh Arabic", system-ui, sans-serif';
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (let c = 0; c < n; c++) {
    const own = map.points.filter((p) => p.true === c);
    if (!own.length) continue;
    const med = (v) => v.sort((a, b) => a - b)[v.length >> 1];
    const [x, y] = map.at(med(own.map((p) => p.x)), med(own.map((p) => p.y)));
    const cls = m.classes[c], label = cls.glyph || (cls.short.length <= 3 ? cls.short : String(c));
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(255,255,255,.85)";
    ctx.strokeText(label, x, y - 9);
    ctx.fillStyle = colour(c, n);
    ctx.fillText(label, x, y - 9);
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  if (placed) drawPlaced();
}

function drawPlaced() {
  const ctx = $("embedding").getContext("2d"), [x, y] = map.at(placed.x, placed.y);
  ctx.strokeStyle = "#1d2230";
  ctx.lineWidth = 1;
  for (const i of placed.neighbours) {
    const [u, v] = map.at(map.points[i].x, map.points[i].y);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(u, v);
    ctx.stroke();
  }
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const r = k % 2 ? 4 : 10, a = -Math.PI / 2 + (k * Math.PI) / 5;
    ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
  }
  ctx.closePath();
  ctx.fillStyle = "#ffd43b";
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

// renderPlacement draws where the drawing of an answer lands.
export function renderPlacement(ans) {
  if (!map || map.model !== state.model || !ans.embedding) return;
  placed = pad.empty() ? null : ans.embedding; // a blank pad is no drawing to place
  const cv = $("embedding");
  cv.dataset.placed = placed ? placed.neighbours.join(",") : "";
  draw();
}

function pointAt(e) {
  if (!map) return null;
  const cv = $("embedding"), r = cv.getBoundingClientRect();
  const x = (e.clientX - r.left) * (cv.width / r.width), y = (e.clientY - r.top) * (cv.height / r.height);
  let best = null, bd = 64;
  map.points.forEach((p, i) => {
    const [u, v] = map.at(p.x, p.y), d = (u - x) ** 2 + (v - y) ** 2;
    if (d < bd) { best = i; bd = d; }
  });
  return best;
}

function tooltip(i, x, y) {
  const tip = $("tooltip");
  if (i === null) { tip.hidden = true; return; }
  const p = map.points[i], m = map.model;
  tip.hidden = false;
  tip.style.left = Math.min(x + 12, innerWidth - 220) + "px";
  tip.style.top = y + 12 + "px";
  tip.textContent = `test image #${p.index}: ${isolate(className(m, p.true))}` +
    (p.pred !== p.true ? `, read as ${isolate(className(m, p.pred))}` : "");
  if (p.pixels) {
    const [h, w, c] = map.shape, px = decodeBase64(p.pixels), cv = document.createElement("canvas");
    cv.width = w; cv.height = h;
    cv.className = "tipimage";
    putGrey(cv, w, h, (k) => px[k * c]);
    tip.prepend(cv);
  }
}
