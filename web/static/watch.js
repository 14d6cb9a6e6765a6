// Watching a network learn (convnet train --watch): the server sends an
// event after every epoch, when the page's model has become that epoch's
// network; the page then redraws the curves and the confusion matrix and
// runs the drawing on the pad through the new weights.
import { $, state } from "./state.js";

export function watch(onEpoch) {
  const banner = $("watch");
  banner.hidden = false;
  banner.textContent = "Waiting for the first epoch to end…";
  state.watching = true;
  state.epochs = [];
  let ended = false;
  const es = new EventSource("/api/watch");
  es.addEventListener("epoch", (e) => {
    const ev = JSON.parse(e.data);
    state.epochs.push(ev.epoch);
    const l = ev.logs;
    // A log that is not a finite number comes as null.
    const num = (v, f) => (v == null ? "not a number" : f(v));
    banner.textContent = `Training: epoch ${ev.epoch} of ${ev.epochs} done. Loss ${num(l.loss, (v) => v.toFixed(3))}, accuracy ${num(l.accuracy, (v) => (v * 100).toFixed(1) + "%")}` +
      ("val_accuracy" in l ? `, validation accuracy ${num(l.val_accuracy, (v) => (v * 100).toFixed(1) + "%")}` : "") +
      `. The drawing on the pad runs through each epoch's network.`;
    onEpoch(ev);
  });
  es.addEventListener("end", (e) => {
    ended = true;
    es.close();
    const ev = JSON.parse(e.data);
    banner.classList.add("ended");
    banner.textContent = `${ev.message} The page shows the last epoch's network.`;
    state.watchEnded = ev.message;
  });
  es.onerror = () => {
    if (ended) return;
    es.close();
    banner.classList.add("ended");
    banner.textContent = "The training process has stopped (the connection to it was lost). The page shows the last epoch that arrived.";
    state.watchEnded = "lost";
  };
}
