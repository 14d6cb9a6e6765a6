// The model panel's pictures: the training curves and the confusion matrix.

const seriesStyle = {
  loss: ["#3b5bdb", []], val_loss: ["#3b5bdb", [6, 4]],
  accuracy: ["#f08c00", []], val_accuracy: ["#f08c00", [6, 4]],
};

// drawCurves plots loss (top) and accuracy (bottom) per epoch; floor, if
// given, is the lowest loss label smoothing allows, drawn dotted.
export function drawCurves(canvas, history, floor) {
  const c = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  c.clearRect(0, 0, W, H);
  c.font = "12px system-ui, sans-serif";
  if (!history) {
    c.fillStyle = "#6b7280";
    c.fillText("No training history stored in this model file.", 20, 30);
    return;
  }
  const n = Math.max(...Object.values(history).map((v) => (Array.isArray(v) ? v.length : 0)));
  const epochs = history.epoch && history.epoch.length === n ? history.epoch : [...Array(n).keys()].map((i) => i + 1);
  const panels = [["loss", "val_loss"], ["accuracy", "val_accuracy"]];
  const ph = (H - 20) / 2;
  panels.forEach((keys, pi) => {
    const y0 = 10 + pi * ph, left = 50, right = W - 110, top = y0 + 8, bottom = y0 + ph - 26;
    const vals = keys.flatMap((k) => history[k] || []).filter((v) => Number.isFinite(v));
    if (!vals.length) return;
    let lo = Math.min(...vals), hi = Math.max(...vals);
    if (keys[0] === "accuracy") { lo = Math.min(lo, 1); hi = Math.max(hi, lo + 0.01); hi = Math.min(1, hi + 0.02); lo = Math.max(0, lo - 0.02); }
    else { lo = 0; hi = hi * 1.05 || 1; }
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) hi = lo + 1;
    const X = (i) => left + (n <= 1 ? 0 : (i / (n - 1)) * (right - left));
    const Y = (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
    c.strokeStyle = "#e3e6ee";
    c.fillStyle = "#6b7280";
    c.lineWidth = 1;
    c.setLineDash([]);
    for (let g = 0; g <= 4; g++) {
      const v = lo + ((hi - lo) * g) / 4;
      c.beginPath(); c.moveTo(left, Y(v)); c.lineTo(right, Y(v)); c.stroke();
      c.fillText(keys[0] === "accuracy" ? (v * 100).toFixed(0) + "%" : v.toFixed(2), 6, Y(v) + 4);
    }
    const step = Math.max(1, Math.ceil(n / 10));
    for (let i = 0; i < n; i += step) c.fillText(String(epochs[i]), X(i) - 4, bottom + 14);
    if (pi === 1) c.fillText("epoch", right - 30, bottom + 26);
    if (pi === 0 && floor && floor < hi) {
      c.strokeStyle = "#868e96";
      c.setLineDash([2, 3]);
      c.beginPath(); c.moveTo(left, Y(floor)); c.lineTo(right, Y(floor)); c.stroke();
      c.setLineDash([]);
      c.fillText("floor", right - 30, Y(floor) - 4);
    }
    c.fillStyle = "#1d2230";
    c.font = "bold 12px system-ui, sans-serif";
    c.fillText(keys[0], right + 8, top + 2);
    c.font = "12px system-ui, sans-serif";
    keys.forEach((k, ki) => {
      // An epoch without the figure (null: not validated, --validation-freq)
      // has no point; the line joins the epochs that have one.
      const pts = (history[k] || []).map((y, i) => [i, y]).filter(([, y]) => Number.isFinite(y));
      if (!pts.length) return;
      const [col, dash] = seriesStyle[k];
      c.strokeStyle = col;
      c.lineWidth = 2;
      c.setLineDash(dash);
      c.beginPath();
      pts.forEach(([i, y], j) => (j ? c.lineTo(X(i), Y(y)) : c.moveTo(X(i), Y(y))));
      if (pts.length === 1) c.arc(X(pts[0][0]), Y(pts[0][1]), 2, 0, 2 * Math.PI);
      c.stroke();
      c.setLineDash([]);
      c.fillStyle = col;
      const label = (k.startsWith("val_") ? "validation" : "training");
      const y = pts[pts.length - 1][1];
      const last = keys[0] === "accuracy" ? (y * 100).toFixed(1) + "%" : y.toFixed(3);
      c.fillText(label, right + 8, top + 18 + ki * 34);
      c.font = "bold 12px system-ui, sans-serif";
      c.fillText(last, right + 8, top + 32 + ki * 34);
      c.font = "12px system-ui, sans-serif";
    });
  });
}

// drawConfusion draws the matrix with row-normalised colours and returns
// the geometry needed to map a click to a cell.
export function drawConfusion(canvas, ev, classes) {
  const c = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  c.clearRect(0, 0, W, H);
  c.font = "12px system-ui, sans-serif";
  if (!ev) {
    c.fillStyle = "#6b7280";
    c.fillText("No evaluation stored in this model file.", 20, 30);
    return null;
  }
  const n = ev.matrix.length;
  const left = 34, top = 34;
  const cell = Math.floor(Math.min(W - left - 4, H - top - 4) / n);
  const label = (i) => {
    const c = classes[i];
    if (!c) return String(i);
    if (c.glyph) return c.glyph;
    return c.short.length <= 3 ? c.short : String(i);
  };
  c.textAlign = "center";
  c.textBaseline = "middle";
  for (let t = 0; t < n; t++) {
    const rowSum = ev.matrix[t].reduce((a, b) => a + b, 0) || 1;
    for (let p = 0; p < n; p++) {
      const v = ev.matrix[t][p] / rowSum;
      // Correct answers in blue, mistakes in orange, stronger when frequent.
      const a = t === p ? 0.15 + 0.85 * v : ev.matrix[t][p] ? Math.min(1, 0.2 + v * 4) : 0;
      c.fillStyle = "#f8f9fc";
      c.fillRect(left + p * cell, top + t * cell, cell - 1, cell - 1);
      c.fillStyle = t === p ? `rgba(59,91,219,${a})` : `rgba(240,140,0,${a})`;
      c.fillRect(left + p * cell, top + t * cell, cell - 1, cell - 1);
      if (cell >= 18 && ev.matrix[t][p]) {
        c.fillStyle = a > 0.55 ? "#fff" : "#1d2230";
        c.font = `${Math.min(11, cell / 2.2)}px system-ui`;
        c.fillText(String(ev.matrix[t][p]), left + p * cell + cell / 2, top + t * cell + cell / 2);
      }
    }
  }
  c.fillStyle = "#374151";
  c.font = `${Math.min(16, cell)}px "Noto Naskh Arabic", system-ui`;
  for (let i = 0; i < n; i++) {
    c.fillText(label(i), left + i * cell + cell / 2, top - 10);
    c.fillText(label(i), left - 14, top + i * cell + cell / 2);
  }
  c.textAlign = "left";
  c.textBaseline = "alphabetic";
  return { left, top, cell, n };
}
