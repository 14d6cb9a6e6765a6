// Talking to the server: JSON requests and the compact tensors of
// /api/activations.

export async function getJSON(url) {
  const r = await fetch(url);
  const body = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

export function decodeBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// decodeLayer turns an encoded tensor into values: exact for "f32", else
// 256 levels between its min and max.
export function decodeLayer(l) {
  const bytes = decodeBase64(l.data);
  if (l.encoding === "f32") return { ...l, full: true, v: new Float32Array(bytes.buffer) };
  const v = new Float32Array(bytes.length);
  const s = (l.max - l.min) / 255;
  for (let i = 0; i < v.length; i++) v[i] = l.min + bytes[i] * s;
  return { ...l, full: false, v };
}

// netpbm returns a Netpbm image of w×h pixels: binary PGM (P5) of one
// value per pixel when c is 1, else PPM (P6) of RGB.
export function netpbm(w, h, c, pixel) {
  const head = new TextEncoder().encode(`${c === 1 ? "P5" : "P6"}\n${w} ${h}\n255\n`);
  const n = c === 1 ? 1 : 3;
  const out = new Uint8Array(head.length + w * h * n);
  out.set(head);
  for (let i = 0, o = head.length; i < w * h; i++, o += n) pixel(i, out, o);
  return out;
}

export const netpbmType = (c) => (c === 1 ? "image/x-portable-graymap" : "image/x-portable-pixmap");
