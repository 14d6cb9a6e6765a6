// Builds models with TensorFlow.js's layers API and saves each as
// model.save does (model.json and weights.bin, the file layout of its
// file:// and downloads:// handlers), for convnet's Go tests of
// convnet import --tfjs, which compare convnet's outputs with run.js's.
//
// Usage: node make.js OUTDIR
//
// It writes OUTDIR/<name>/ for each model below, with random weights
// (batch normalizations' moving statistics too):
//   teachable   laid out as a Teachable Machine image model: a Sequential of
//               a Sequential (a truncated MobileNetV2-like Functional model
//               and a pooling) and a Sequential head, with the metadata.json
//               Teachable Machine writes beside it;
//   layers      a Sequential of most layer types;
//   branches    a Functional model with merges, paddings and resampling;
//   uint8, uint16, float16
//               the teachable model with its weights quantized as
//               tensorflowjs_converter --quantize_* stores them.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');

// teachable is shaped as Teachable Machine's image models (a MobileNetV2
// base cut at out_relu, its pooling, then its two Dense layers), smaller.
function teachable() {
  const input = tfl.input({ shape: [32, 32, 3], name: 'input_1' });
  const relu6 = (name) => tfl.layers.reLU({ maxValue: 6, name });
  const bn = (name) => tfl.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' }).apply(input);
  x = relu6('Conv1_relu').apply(bn('bn_Conv1').apply(x));
  let y = tfl.layers.conv2d({ filters: 16, kernelSize: 1, padding: 'same', useBias: false, name: 'block_1_expand' }).apply(x);
  y = relu6('block_1_expand_relu').apply(bn('block_1_expand_BN').apply(y));
  y = tfl.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'block_1_pad' }).apply(y);
  y = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'block_1_depthwise' }).apply(y);
  y = relu6('block_1_depthwise_relu').apply(bn('block_1_depthwise_BN').apply(y));
  y = tfl.layers.conv2d({ filters: 8, kernelSize: 1, padding: 'same', useBias: false, name: 'block_1_project' }).apply(y);
  x = bn('block_1_project_BN').apply(y);
  y = tfl.layers.conv2d({ filters: 16, kernelSize: 1, padding: 'same', useBias: false, name: 'block_2_expand' }).apply(x);
  y = relu6('block_2_expand_relu').apply(bn('block_2_expand_BN').apply(y));
  y = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'block_2_depthwise' }).apply(y);
  y = relu6('block_2_depthwise_relu').apply(bn('block_2_depthwise_BN').apply(y));
  y = tfl.layers.conv2d({ filters: 8, kernelSize: 1, padding: 'same', useBias: false, name: 'block_2_project' }).apply(y);
  x = tfl.layers.add({ name: 'block_2_add' }).apply([x, bn('block_2_project_BN').apply(y)]);
  x = tfl.layers.conv2d({ filters: 32, kernelSize: 1, useBias: false, name: 'Conv_1' }).apply(x);
  x = relu6('out_relu').apply(bn('Conv_1_bn').apply(x));
  const truncated = tfl.model({ inputs: input, outputs: x, name: 'model1' });
  const base = tfl.sequential({ name: 'sequential_1', layers: [truncated, tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_GlobalAveragePooling2D1' })] });
  const head = tfl.sequential({
    name: 'sequential_3',
    layers: [
      tfl.layers.dense({ inputShape: [32], units: 10, activation: 'relu', useBias: true, name: 'dense_Dense1' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', useBias: false, name: 'dense_Dense2' }),
    ],
  });
  const m = tfl.sequential({ name: 'sequential_4' });
  m.add(base);
  m.add(head);
  return m;
}

function layers() {
  return tfl.sequential({
    name: 'letters',
    layers: [
      tfl.layers.conv2d({ inputShape: [16, 16, 1], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }),
      tfl.layers.batchNormalization({ name: 'norm' }),
      // (TensorFlow.js 4.22 leaves a SeparableConv2D's depth_multiplier out of
      // model.json, and cannot load one of 2 it saved.)
      tfl.layers.separableConv2d({ filters: 8, kernelSize: 3, activation: 'elu', name: 'sep' }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu', name: 'dw' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh', name: 'dilated' }),
      tfl.layers.averagePooling2d({ poolSize: 2, strides: 1, name: 'avg' }),
      tfl.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }),
      tfl.layers.dropout({ rate: 0.3, name: 'drop' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 12, activation: 'sigmoid', name: 'hidden' }),
      tfl.layers.prelu({ name: 'prelu' }),
      tfl.layers.dense({ units: 5, name: 'logits' }),
      tfl.layers.softmax({ name: 'probs' }),
    ],
  });
}

function branches() {
  const input = tfl.input({ shape: [12, 12, 3], name: 'image' });
  const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'a' }).apply(input);
  const b = tfl.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'sigmoid', name: 'b' }).apply(input);
  let x = tfl.layers.concatenate({ name: 'cat' }).apply([a, b]);
  const g = tfl.layers.multiply({ name: 'gate' }).apply([a, b]);
  x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'down' }).apply(x);
  x = tfl.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(x);
  x = tfl.layers.average({ name: 'mean' }).apply([x, g]);
  x = tfl.layers.maximum({ name: 'max' }).apply([x, a]);
  x = tfl.layers.cropping2D({ cropping: [[1, 1], [2, 0]], name: 'crop' }).apply(x);
  const p = tfl.layers.globalMaxPooling2d({ name: 'gmax' }).apply(x);
  const q = tfl.layers.globalAveragePooling2d({ name: 'gavg' }).apply(x);
  x = tfl.layers.concatenate({ name: 'both' }).apply([p, q]);
  const out = tfl.layers.dense({ units: 4, activation: 'softmax', name: 'out' }).apply(x);
  return tfl.model({ inputs: input, outputs: out, name: 'branches' });
}

// randomize gives every weight random values (variances positive).
function randomize(m, seed) {
  m.setWeights(m.weights.map((w, i) => {
    const v = tf.randomNormal(w.shape, 0, 0.5, 'float32', seed + i);
    return w.name.endsWith('moving_variance') ? tf.add(tf.abs(v), 0.5) : v;
  }));
}

// save writes the model as model.save does, model.json and weights.bin,
// the weights quantized to dtype if given (uint8, uint16 or float16).
async function save(m, dir, quantize) {
  fs.mkdirSync(dir, { recursive: true });
  await m.save(tf.io.withSaveHandler(async (artifacts) => {
    let specs = artifacts.weightSpecs;
    let data = Buffer.from(artifacts.weightData);
    if (quantize) {
      ({ specs, data } = quantized(specs, data, quantize));
    }
    const json = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, 'weights.bin'), data);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

// quantized stores float32 weights as the converter's quantization does:
// uint8 or uint16 v = round((x - min) / scale), or float16.
function quantized(specs, data, dtype) {
  const out = [];
  const parts = [];
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(data.buffer.slice(data.byteOffset + offset, data.byteOffset + offset + 4 * n));
    offset += 4 * n;
    if (dtype === 'float16') {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        h[i] = toHalf(x[i]);
      }
      parts.push(Buffer.from(h.buffer));
      out.push({ ...s, quantization: { dtype } });
      continue;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    const min = Math.min(...x);
    const max = Math.max(...x);
    const scale = max > min ? (max - min) / levels : 1;
    const q = dtype === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      q[i] = Math.round((x[i] - min) / scale);
    }
    parts.push(Buffer.from(q.buffer));
    out.push({ ...s, quantization: { dtype, min, scale } });
  }
  return { specs: out, data: Buffer.concat(parts) };
}

// toHalf rounds a float32 to the nearest IEEE half (ties to even), for the
// normal and subnormal range the weights are in.
function toHalf(v) {
  const f = new Float32Array([v]);
  const bits = new Uint32Array(f.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const a = Math.abs(v);
  if (a >= 65520) {
    return sign | 0x7c00;
  }
  if (a < 6.103515625e-05) { // subnormal: a multiple of 2^-24
    return sign | Math.round(a / 5.960464477539063e-08);
  }
  let e = Math.floor(Math.log2(a));
  let m = a / 2 ** e - 1;
  let frac = Math.round(m * 1024);
  if (frac === 1024) {
    frac = 0;
    e += 1;
  }
  return sign | ((e + 15) << 10) | frac;
}

async function main() {
  const out = process.argv[2];
  if (!out) {
    throw new Error('usage: node make.js OUTDIR');
  }
  await tf.setBackend('cpu');
  const tm = teachable();
  randomize(tm, 1);
  await save(tm, path.join(out, 'teachable'));
  fs.writeFileSync(path.join(out, 'teachable', 'metadata.json'), JSON.stringify({
    tfjsVersion: '1.3.1', tmVersion: '2.4.10', packageVersion: '0.8.5', packageName: '@teachablemachine/image',
    timeStamp: '2026-12-06T00:00:00.000Z', userMetadata: {}, modelName: 'tm-my-image-model',
    labels: ['Cat', 'Dog', 'Nothing'], imageSize: 224,
  }));
  for (const q of ['uint8', 'uint16', 'float16']) {
    await save(tm, path.join(out, q), q);
  }
  const l = layers();
  randomize(l, 100);
  await save(l, path.join(out, 'layers'));
  const b = branches();
  randomize(b, 200);
  await save(b, path.join(out, 'branches'));
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
