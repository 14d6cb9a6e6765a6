// The drawing pad: strokes with pointer events (mouse, touch and pen),
// undo and clear, and a background: a test image or a picture.
import { netpbm, netpbmType } from "./api.js";

// The default brush width, in pad pixels: the framing scales drawings of
// any size to the training images' and evens out their strokes, so one
// width serves every model.
export const brushWidth = 16;

export class Pad {
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    // onChange(final, reason) follows every change: final when a stroke or
    // an edit is complete, reason "up" when the pen was lifted.
    this.onChange = onChange;
    this.strokes = [];
    this.background = null; // {canvas, sample: {pixels, h, w, c} or null}
    this.width = brushWidth;
    this.current = null;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", (e) => this.up(e));
    this.redraw();
  }

  // point returns where e is on the pad, on a grid of 1/8 pixel that a link
  // to the drawing holds exactly (link.js).
  point(e) {
    const r = this.canvas.getBoundingClientRect();
    const q = (v) => Math.round(v * 8) / 8;
    return [q((e.clientX - r.left) * this.canvas.width / r.width), q((e.clientY - r.top) * this.canvas.height / r.height)];
  }

  down(e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    const p = this.point(e);
    const w = e.pointerType === "pen" && e.pressure > 0 ? Math.round(this.width * (0.6 + e.pressure * 0.8) * 16) / 16 : this.width;
    this.current = { width: w, points: [p] };
    this.strokes.push(this.current);
    this.drawSegment(this.current, 0);
    this.onChange(false);
  }

  move(e) {
    if (!this.current) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) {
      this.current.points.push(this.point(ev));
      this.drawSegment(this.current, this.current.points.length - 1);
    }
    this.onChange(false);
  }

  up() {
    if (!this.current) return;
    this.current = null;
    this.onChange(true, "up");
  }

  drawSegment(s, i) {
    const c = this.ctx;
    c.strokeStyle = "#fff";
    c.fillStyle = "#fff";
    c.lineCap = "round";
    c.lineJoin = "round";
    c.lineWidth = s.width;
    const p = s.points[i];
    if (i === 0) {
      c.beginPath();
      c.arc(p[0], p[1], s.width / 2, 0, 2 * Math.PI);
      c.fill();
      return;
    }
    const q = s.points[i - 1];
    c.beginPath();
    c.moveTo(q[0], q[1]);
    c.lineTo(p[0], p[1]);
    c.stroke();
  }

  redraw() {
    const c = this.ctx;
    c.fillStyle = "#000";
    c.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (this.background) {
      c.imageSmoothingEnabled = !this.background.sample;
      c.drawImage(this.background.canvas, 0, 0, this.canvas.width, this.canvas.height);
    }
    for (const s of this.strokes) for (let i = 0; i < s.points.length; i++) this.drawSegment(s, i);
  }

  undo() {
    if (this.strokes.length) this.strokes.pop();
    else this.background = null;
    this.redraw();
    this.onChange(true);
  }

  clear() {
    this.strokes = [];
    this.background = null;
    this.redraw();
    this.onChange(true);
  }

  empty() { return !this.strokes.length && !this.background; }

  // setImage shows raw pixels (0..255, h×w×c, white on black) as the
  // background: a test image, sent as it is while nothing is drawn on it.
  setImage(pixels, h, w, c) {
    const off = document.createElement("canvas");
    off.width = w;
    off.height = h;
    const octx = off.getContext("2d");
    const img = octx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) img.data[i * 4 + k] = pixels[i * c + (c === 3 ? k : 0)];
      img.data[i * 4 + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    this.strokes = [];
    this.background = { canvas: off, sample: { pixels, h, w, c } };
    this.redraw();
    this.onChange(true);
  }

  // setPicture shows a decoded picture (an ImageBitmap) as the background,
  // fitted to the pad; the margins take the colour of its border, so that
  // the server still sees what is paper and what is ink.
  setPicture(bitmap) {
    const S = this.canvas.width;
    const off = document.createElement("canvas");
    off.width = off.height = S;
    const octx = off.getContext("2d");
    const scale = Math.min(S / bitmap.width, S / bitmap.height);
    const w = Math.max(1, Math.round(bitmap.width * scale)), h = Math.max(1, Math.round(bitmap.height * scale));
    const x = Math.floor((S - w) / 2), y = Math.floor((S - h) / 2);
    octx.drawImage(bitmap, x, y, w, h);
    octx.fillStyle = borderColour(octx.getImageData(x, y, w, h));
    octx.fillRect(0, 0, S, y);
    octx.fillRect(0, y + h, S, S - y - h);
    octx.fillRect(0, y, x, h);
    octx.fillRect(x + w, y, S - x - w, h);
    this.strokes = [];
    this.background = { canvas: off, sample: null };
    this.redraw();
    this.onChange(true, "picture");
  }

  // body returns what to send for model input channels c: the pad as a
  // PGM (or PPM), or the test image at its own size while nothing is
  // drawn on it.
  body(c) {
    const bg = this.background;
    if (bg && bg.sample && !this.strokes.length && (bg.sample.c === c || c === 1)) {
      const s = bg.sample;
      return { type: netpbmType(c), body: netpbm(s.w, s.h, c, (i, out, o) => {
        for (let k = 0; k < (c === 1 ? 1 : 3); k++) out[o + k] = s.pixels[i * s.c + (s.c === 1 ? 0 : k)];
      }) };
    }
    const W = this.canvas.width, H = this.canvas.height;
    const d = this.ctx.getImageData(0, 0, W, H).data;
    return { type: netpbmType(c), body: netpbm(W, H, c, c === 1
      ? (i, out, o) => { out[o] = (d[i * 4] * 77 + d[i * 4 + 1] * 150 + d[i * 4 + 2] * 29 + 128) >> 8; }
      : (i, out, o) => { out[o] = d[i * 4]; out[o + 1] = d[i * 4 + 1]; out[o + 2] = d[i * 4 + 2]; }) };
  }
}

// borderColour returns the CSS colour of the mean of an image's outermost
// ring of pixels.
function borderColour(img) {
  const { width: w, height: h, data: d } = img;
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (y !== 0 && y !== h - 1 && x !== 0 && x !== w - 1) continue;
      for (let k = 0; k < 3; k++) sum[k] += d[(y * w + x) * 4 + k];
      n++;
    }
  }
  return `rgb(${sum.map((v) => Math.round(v / n)).join(",")})`;
}
