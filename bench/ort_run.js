// Runs an ONNX model with ONNX Runtime (onnxruntime-node, CPU) and prints
// latency JSON, the peer of hwopt-run --json in bench/models.py.
// usage: node ort_run.js MODEL THREADS WARMUP ITERATIONS NAME=NPY...
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1]
    .split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const data = buf.subarray(off + hlen);
  const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const types = { '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array],
    '<i4': ['int32', Int32Array], '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array] };
  const [type, Arr] = types[descr];
  return new ort.Tensor(type, new Arr(ab), shape);
}

async function main() {
  const [model, threads, warmup, iterations, ...inputs] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const feeds = {};
  for (const kv of inputs) {
    const i = kv.indexOf('=');
    feeds[kv.slice(0, i)] = readNpy(kv.slice(i + 1));
  }
  for (let i = 0; i < Number(warmup); i++) await session.run(feeds);
  const lat = [];
  for (let i = 0; i < Number(iterations); i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.round(p * (lat.length - 1))];
  console.log(JSON.stringify({ latency_ms: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99),
    mean: lat.reduce((a, b) => a + b, 0) / lat.length } }));
}

main().catch((e) => { console.error(`ort_run: ${e.message}`); process.exit(1); });
