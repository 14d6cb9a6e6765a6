// Runs an ONNX model with ONNX Runtime (onnxruntime-node) on a batch of
// float32 inputs and writes its output as float32, for convnet's Go tests.
//
// Usage: node run.js MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32
//
// The files hold little-endian float32 values, row-major. It prints the
// input and output names and the output's shape as JSON.
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, shape, output] = process.argv.slice(2);
  if (!output) {
    throw new Error('usage: node run.js MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32');
  }
  const dims = shape.split(',').map(Number);
  const buf = fs.readFileSync(input);
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const session = await ort.InferenceSession.create(model);
  const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, dims) });
  const y = result[session.outputNames[0]];
  fs.writeFileSync(output, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  console.log(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames, dims: y.dims }));
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
