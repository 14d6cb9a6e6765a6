// Runs a model that convnet export --format tfjs wrote with TensorFlow.js
// (tf.loadLayersModel, CPU backend) on a batch of float32 inputs and writes
// its output as float32, for convnet's Go tests.
//
// Usage: node run.js DIR INPUT.f32 N,H,W,C OUTPUT.f32
//
// The files hold little-endian float32 values, row-major (channels last,
// as TensorFlow.js takes images). It prints the output's shape, the number
// of weights and the metadata convnet stored, as JSON.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');

async function main() {
  const [dir, input, shape, output] = process.argv.slice(2);
  if (!output) {
    throw new Error('usage: node run.js DIR INPUT.f32 N,H,W,C OUTPUT.f32');
  }
  await tf.setBackend('cpu');
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'model.json')));
  const specs = doc.weightsManifest.flatMap((g) => g.weights);
  const shards = doc.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p)));
  const all = Buffer.concat(shards);
  const model = await tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: doc.modelTopology,
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
    userDefinedMetadata: doc.userDefinedMetadata,
  }));
  const buf = fs.readFileSync(input);
  const x = tf.tensor(new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)), shape.split(',').map(Number));
  const y = model.predict(x);
  const data = y.dataSync();
  fs.writeFileSync(output, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  console.log(JSON.stringify({ shape: y.shape, weights: model.getWeights().length, meta: model.getUserDefinedMetadata() }));
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
