// Colour maps: a sequential one (magma-like) for values from 0 up, and a
// diverging blue–white–red one for values around 0.

const magma = [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
  [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]];
const diverging = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [239, 138, 98], [178, 24, 43]];

function lut(stops) {
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const k = Math.min(Math.floor(t), stops.length - 2);
    const f = t - k;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = stops[k][c] * (1 - f) + stops[k + 1][c] * f;
  }
  return out;
}

const SEQ = lut(magma);
const DIV = lut(diverging);

// paint writes rgb for t in [0,1] (sequential) or [-1,1] (diverging) into
// the RGBA array px at pixel i.
export function paint(px, i, t, div) {
  let k;
  const map = div ? DIV : SEQ;
  if (div) k = Math.round((Math.max(-1, Math.min(1, t)) + 1) * 127.5);
  else k = Math.round(Math.max(0, Math.min(1, t)) * 255);
  px[i * 4] = map[k * 3];
  px[i * 4 + 1] = map[k * 3 + 1];
  px[i * 4 + 2] = map[k * 3 + 2];
  px[i * 4 + 3] = 255;
}

export function css(t, div) {
  const px = new Uint8ClampedArray(4);
  paint(px, 0, t, div);
  return `rgb(${px[0]},${px[1]},${px[2]})`;
}
