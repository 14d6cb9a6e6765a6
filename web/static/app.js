// The demo page: draw, predict, and look inside every layer. This module
// loads the models, sends the pad to the server (one request at a time,
// the latest drawing each time) and hands each answer to the sections.
import { $, state, setMessage } from "./state.js";
import { getJSON, decodeLayer } from "./api.js";
import { Pad, brushWidth } from "./draw.js";
import { buildLayers, renderAll, wantedLayers } from "./layers.js";
import { setupSeen, renderSeen } from "./seen.js";
import { renderTop, setupMini, setupSmoothing, smoothing } from "./prediction.js";
import { setupDetail, openDetail, closeDetail, renderDetail, detailLayers } from "./detail.js";
import { drawCurves, drawConfusion } from "./panel.js";
import { setupConfusion } from "./confusion.js";
import { setupGallery, loadGallery } from "./gallery.js";
import { setupEmbedding, loadEmbedding, embeddingWanted, renderPlacement } from "./embedding.js";
import { setupUpload } from "./upload.js";
import { watch } from "./watch.js";
import { setupLink, linked, restore, updateLink } from "./link.js";

const pad = new Pad($("pad"), (final, reason) => {
  if (reason === "up") {
    // The next request carries the whole drawing: time it to its answer.
    state.pendingUp = { seq: state.sent + 1 };
    performance.mark("convnet:pen-up");
    // A request still on its way shows less than the whole drawing: drop
    // it rather than wait for it.
    if (state.inflight) state.controller.abort();
  }
  if (final && reason !== "picture") setMessage("");
  if (final) updateLink();
  requestUpdate();
});
state.pad = pad;

// ---------- requests ----------

// requestUpdate sends the pad to the server, or, while a request is on its
// way, marks the pad to be sent again as soon as the answer is in: at most
// one request is on its way, and the next one carries the latest drawing.
export function requestUpdate() {
  if (!state.model) return;
  if (state.watchEnded) {
    setMessage("The training run is over and its server has stopped: serve the saved model with convnet serve to go on drawing.", true);
    return;
  }
  if (state.inflight) { state.dirty = true; return; }
  send();
}

async function send() {
  const m = state.model;
  state.inflight = true;
  state.dirty = false;
  const seq = ++state.sent;
  const epoch = state.epochs ? state.epochs.length : 0; // of a watched run
  const controller = (state.controller = new AbortController());
  const params = new URLSearchParams({ model: m.name, k: Math.min(5, m.classes.length) });
  if ($("saliency").checked) params.set("saliency", "1");
  if ($("cam").checked) {
    params.set("cam", $("cammethod").value);
    if ($("camlayer").value !== "" && $("cammethod").value !== "occlusion") params.set("camlayer", $("camlayer").value);
  }
  // While the pen moves, the layers are repainted four times a second at
  // most (the prediction follows every answer): the page stays free to
  // follow the pen.
  const light = pad.current !== null && performance.now() - layersShown < 250;
  const full = light ? [] : detailLayers();
  if (full.length) params.set("full", full.join(","));
  if (embeddingWanted()) params.set("embed", "1");
  params.set("layers", [...new Set([...(light ? [] : wantedLayers()), m.layers.length - 1])].join(","));
  try {
    const { type, body } = pad.body(m.input_shape[2]);
    const r = await fetch("/api/activations?" + params, { method: "POST", headers: { "Content-Type": type }, body, signal: controller.signal });
    // A request dropped while its answer arrives fails in r.json(): it is
    // dropped, not an answer that is not JSON.
    const ans = await r.json().catch((e) => {
      if (controller.signal.aborted) throw e;
      return { error: `${r.status} ${r.statusText}` };
    });
    if (!r.ok) throw new Error(ans.error || r.statusText);
    if (state.model === m) show(ans, seq, light, epoch);
  } catch (err) {
    if (err.name === "AbortError") {
      state.dirty = true;
    } else {
      state.errors = (state.errors || 0) + 1;
      setMessage("The server could not classify the drawing: " + err.message, true);
    }
  } finally {
    state.inflight = false;
    if (state.dirty) requestUpdate();
  }
}

// show hands an answer to the sections: the prediction first, the layers
// on screen in the next frame (unless the answer is a light one, without
// them).
let layersShown = 0;
function show(ans, seq, light, epoch) {
  const m = state.model;
  state.answer = ans;
  state.input = decodeLayer(ans.input);
  if (!light) {
    state.values = [];
    state.valuesEpoch = epoch; // the values come from this epoch's network or a later one
  }
  for (const l of ans.layers) state.values[l.index] = decodeLayer(l);
  state.updates++;
  renderTop(ans.top, m);
  renderSeen(ans, pad);
  renderPlacement(ans);
  $("predhint").textContent = pad.empty()
    ? "The pad is empty: draw a letter or digit. Below is what the network makes of a blank image."
    : "Probabilities of the most likely classes.";
  const timed = state.pendingUp && seq >= state.pendingUp.seq;
  if (timed) state.pendingUp = null;
  requestAnimationFrame(() => {
    if (timed) {
      performance.mark("convnet:shown");
      state.timings.push(performance.measure("convnet:pen-up-to-prediction", "convnet:pen-up", "convnet:shown").duration);
    }
    if (light) return;
    layersShown = performance.now();
    if (renderAll()) requestUpdate();
    if (state.detail) renderDetail();
  });
}
document.addEventListener("convnet:need-layers", () => requestUpdate());

// ---------- models ----------

async function init() {
  const { models, watch: watching } = await getJSON("/api/models");
  state.models = models;
  const sel = $("model");
  for (const m of models) sel.add(new Option(`${m.name} (${m.classes.length} classes, ${m.input_shape.slice(0, 2).join("×")})`, m.name));
  sel.parentElement.hidden = models.length < 2;
  if (!models.length) {
    const n = $("nomodel");
    n.hidden = false;
    n.innerHTML = "No model is served. Train one with <code>convnet train</code>, then run <code>convnet serve --model FILE</code>.";
    return;
  }
  sel.addEventListener("change", () => loadModel(sel.value));
  // A link (link.js) names its model; so may ?model=NAME.
  const link = linked();
  const wanted = (link && link.get("m")) || new URLSearchParams(location.search).get("model");
  loadModel(models.some((m) => m.name === wanted) ? wanted : models[0].name);
  if (link && link.get("m") === state.model.name) {
    const problems = restore(link, openDetail);
    if (problems.length) setMessage(`The link's ${problems.join(" and ")} could not be shown on ${state.model.name}.`, true);
  } else if (link && link.get("m")) {
    setMessage(`The link's model ${link.get("m")} is not served here: showing ${state.model.name}.`, true);
  }
  if (watching) watch(onEpoch);
}

function loadModel(name) {
  closeDetail();
  const m = state.models.find((x) => x.name === name);
  state.model = m;
  state.answer = null;
  state.values = [];
  $("model").value = name;
  applyBrush();
  $("drawhint").textContent = m.framing && m.framing.box
    ? `Write one ${m.classes.some((c) => c.glyph) ? "letter" : "character"}, upright, any size, anywhere on the pad: it is framed as the training images were.`
    : "Write one character, large and centred: this model's training images fill their frame.";
  setupSeen(m);
  setupSmoothing(m);
  buildLayers(m, openDetail);
  $("summary").textContent = m.summary || "(no summary)";
  loadPanel(m);
  pad.clear();
}

async function loadPanel(m) {
  loadGallery(m);
  loadEmbedding(m);
  state.evaluation = null;
  $("samples").innerHTML = "";
  state.history = m.has_history ? await getJSON(`/api/models/${m.name}/history`).catch(() => null) : null;
  const h = state.history, s = smoothing(m);
  drawCurves($("curves"), h, s && s.floor);
  const validated = h && h.val_loss && h.val_loss.length;
  $("curvehint").textContent = !h ? "" : (validated
    ? "Solid: training set, dashed: validation set. The gap between them shows overfitting."
    : "Loss and accuracy on the training set, epoch by epoch (this model was trained without validation data).") +
    (s ? ` The loss cannot go below ${s.floor.toFixed(2)} (dotted): with label smoothing ${s.e} the targets are ${(s.hi * 100).toFixed(1)}% for the right class, never 100%.` : "");
  if (m.has_evaluation) state.evaluation = await getJSON(`/api/models/${m.name}/evaluation`).catch(() => null);
  const ev = state.evaluation;
  $("acc").textContent = ev ? `test accuracy ${(ev.accuracy * 100).toFixed(1)}% on ${ev.count} images` : "";
  state.confusion = drawConfusion($("confusion"), ev, m.classes);
  $("confhint").hidden = !ev;
}

// onEpoch follows a training run: the served model is the new epoch's.
async function onEpoch() {
  const { models } = await getJSON("/api/models");
  const fresh = models.find((x) => state.model && x.name === state.model.name);
  if (!fresh) return;
  Object.assign(state.model, { has_history: fresh.has_history, has_evaluation: fresh.has_evaluation, summary: fresh.summary });
  await loadPanel(state.model);
  const d = state.detail;
  if (d) openDetail(d.shown, d.channel);
  else requestUpdate();
}

// ---------- tools ----------

function applyBrush() {
  pad.width = Math.round(brushWidth * Number($("brush").value));
}
$("brush").addEventListener("input", applyBrush);
$("undo").addEventListener("click", () => pad.undo());
$("clear").addEventListener("click", () => pad.clear());
$("saliency").addEventListener("change", () => requestUpdate());
$("cam").addEventListener("change", () => requestUpdate());
$("cammethod").addEventListener("change", () => requestUpdate());
$("camlayer").addEventListener("change", () => requestUpdate());
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") closeDetail();
  if ((e.ctrlKey || e.metaKey) && e.key === "z") { e.preventDefault(); pad.undo(); }
});
setupDetail(requestUpdate);
setupConfusion(pad);
setupGallery(openDetail);
setupEmbedding(pad);
setupUpload(pad);
setupMini();
setupLink();

init().catch((err) => {
  const n = $("nomodel");
  n.hidden = false;
  n.textContent = "Could not load the models: " + err.message;
});
