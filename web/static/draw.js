// The drawing pad: strokes with pointer events (mouse, touch and pen),
// undo and clear, and an optional background image (a test sample).

export class Pad {
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.strokes = [];
    this.background = null; // an offscreen canvas, or null
    this.width = 20;
    this.current = null;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", (e) => this.up(e));
    this.redraw();
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * this.canvas.width / r.width, (e.clientY - r.top) * this.canvas.height / r.height];
  }

  down(e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    const p = this.point(e);
    const w = e.pointerType === "pen" && e.pressure > 0 ? this.width * (0.6 + e.pressure * 0.8) : this.width;
    this.current = { width: w, points: [p] };
    this.strokes.push(this.current);
    this.drawSegment(this.current, 0);
    this.onChange();
  }

  move(e) {
    if (!this.current) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) {
      this.current.points.push(this.point(ev));
      this.drawSegment(this.current, this.current.points.length - 1);
    }
    this.onChange();
  }

  up() {
    if (!this.current) return;
    this.current = null;
    this.onChange(true);
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
      c.imageSmoothingEnabled = false;
      c.drawImage(this.background, 0, 0, this.canvas.width, this.canvas.height);
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

  // setImage shows raw pixels (0..255, h×w×c) as the background.
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
    this.background = off;
    this.redraw();
    this.onChange(true);
  }

  blob() {
    return new Promise((resolve) => this.canvas.toBlob(resolve, "image/png"));
  }
}
