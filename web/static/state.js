// The page's shared state and the small helpers every module uses.

export const $ = (id) => document.getElementById(id);

export const state = {
  models: [], // /api/models
  model: null, // the model shown
  blocks: [], // the model's layers folded into blocks (layers.js)
  answer: null, // the last /api/activations answer
  input: null, // its standardised input, decoded
  values: [], // its layers' outputs by index, decoded (missing when not asked for)
  detail: null, // the open detail view: {layer, channel, pixel, kernel, from}
  inflight: false, // a request is on its way
  dirty: false, // the pad changed since it left
  sent: 0, // requests sent
  updates: 0, // answers shown
  pendingUp: null, // the pen lifted: {seq} of the request that carries the whole drawing
  timings: [], // milliseconds from pen up to the prediction shown, one per drawing
  confusion: null, // the confusion matrix's geometry (panel.js)
  embedding: null, // the map of the test images (embedding.js)
  evaluation: null,
  history: null,
  watching: false, // served by convnet train --watch
};
window.convnetState = state; // for tests and the curious

export const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// fmt writes a value with 2 significant decimals at most.
export const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

// isolate wraps text for display inside text of the other direction (an
// Arabic class name in an English sentence): Unicode's first-strong isolate.
export const isolate = (s) => `\u2068${s}\u2069`;

// className returns a class's name for sentences: "ح hah", or "7".
export function className(m, i) {
  const c = m.classes[i];
  return c.glyph ? `${c.glyph} ${c.short}` : c.name;
}

export function setMessage(text, error = false) {
  const el = $("message");
  el.textContent = text;
  el.classList.toggle("error", error);
}

// whenShown returns run(job) for element el: run calls job at once when el
// is on screen, else when it comes into view (the latest job only);
// run(null) drops a job still waiting.
export function whenShown(el) {
  let visible = false, job = null;
  new IntersectionObserver((entries) => {
    visible = entries.some((e) => e.isIntersecting);
    if (visible && job) {
      const j = job;
      job = null;
      j();
    }
  }).observe(el);
  return (f) => {
    job = visible ? null : f;
    if (visible && f) f();
  };
}
