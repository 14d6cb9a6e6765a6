// Pictures: pick a file, drop it on the pad or paste it. The browser
// decodes it (after reading its size from its header, so that an enormous
// image is refused before it takes memory), fits it on the pad, and it is
// framed and classified like a drawing.
import { $, setMessage } from "./state.js";

const maxBytes = 32 << 20; // a file larger than this is refused unread
const maxPixels = 50e6; // an image of more pixels is refused undecoded

export function setupUpload(pad) {
  $("file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    e.target.value = "";
    if (f) load(pad, f);
  });
  const wrap = $("padwrap");
  const zone = $("dropzone");
  wrap.addEventListener("dragover", (e) => { e.preventDefault(); zone.hidden = false; });
  wrap.addEventListener("dragleave", () => (zone.hidden = true));
  wrap.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.hidden = true;
    const f = e.dataTransfer.files[0];
    if (f) load(pad, f);
    else setMessage("Nothing to classify was dropped: drop an image file.", true);
  });
  document.addEventListener("paste", (e) => {
    const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.kind === "file");
    if (!item) return;
    e.preventDefault();
    load(pad, item.getAsFile());
  });
}

// load checks, decodes and shows one file; every failure is a message.
export async function load(pad, file) {
  const name = file.name || "the pasted image";
  try {
    if (file.size > maxBytes) throw new Error(`${name} is ${(file.size / 1048576).toFixed(0)} MB: pick an image of at most ${maxBytes >> 20} MB.`);
    const head = new Uint8Array(await file.slice(0, 256 << 10).arrayBuffer());
    const size = imageSize(head);
    if (!size) throw new Error(`${name} is not an image this page reads (PNG, JPEG, GIF, WebP or BMP).`);
    if (size.w * size.h > maxPixels) {
      throw new Error(`${name} is ${size.w}×${size.h} pixels (${(size.w * size.h / 1e6).toFixed(0)} megapixels): pick one of at most ${maxPixels / 1e6} megapixels.`);
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      throw new Error(`${name} could not be decoded: the file is damaged or not really a ${size.format} image.`);
    }
    pad.setPicture(bitmap);
    bitmap.close();
    setMessage(`${name} (${size.w}×${size.h}): framed and classified like a drawing. Draw over it, or Clear.`);
  } catch (err) {
    setMessage(err.message, true);
  }
}

// imageSize reads the format and size of an image from its first bytes,
// or returns null for a format it does not know.
export function imageSize(b) {
  const u16 = (i, le) => (le ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1]);
  const u32 = (i, le) => (le ? (u16(i, true) | (u16(i + 2, true) << 16)) >>> 0 : ((u16(i) << 16) | u16(i + 2)) >>> 0);
  const ascii = (i, n) => String.fromCharCode(...b.subarray(i, i + n));
  if (b.length >= 24 && b[0] === 0x89 && ascii(1, 3) === "PNG") return { format: "PNG", w: u32(16), h: u32(20) };
  if (b.length >= 10 && ascii(0, 3) === "GIF") return { format: "GIF", w: u16(6, true), h: u16(8, true) };
  if (b.length >= 26 && ascii(0, 2) === "BM") return { format: "BMP", w: Math.abs(u32(18, true) | 0), h: Math.abs(u32(22, true) | 0) };
  if (b.length >= 30 && ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") {
    const kind = ascii(12, 4);
    if (kind === "VP8 ") return { format: "WebP", w: u16(26, true) & 0x3fff, h: u16(28, true) & 0x3fff };
    if (kind === "VP8L") { const v = u32(21, true); return { format: "WebP", w: (v & 0x3fff) + 1, h: ((v >> 14) & 0x3fff) + 1 }; }
    if (kind === "VP8X") return { format: "WebP", w: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)), h: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)) };
    return null;
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    // JPEG: the size is in the first start-of-frame segment.
    for (let i = 2; i + 9 < b.length;) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      if (marker === 0xff) { i++; continue; }
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { format: "JPEG", w: u16(i + 7), h: u16(i + 5) };
      }
      i += 2 + u16(i + 2);
    }
    return null;
  }
  return null;
}
