// Runs an ONNX model with ONNX Runtime (onnxruntime-node, CPU) and prints
// latency JSON, the peer of hwopt-run --json in bench/models.py.
// usage: node ort_run.js MODEL THREADS WARMUP ITERATIONS NAME=NPY... [OPTIONS]
// THREADS 0 is ONNX Runtime's default. Options (bench/dispatch.py, which
// runs several processes at once and needs them to overlap):
//   --start-at=NS  after warm-up, wait until CLOCK_MONOTONIC reaches NS
//   --latencies    also print every latency and the timed loop's start and
//                  end (t_start_ns, t_end_ns, CLOCK_MONOTONIC)
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

// process.hrtime is libuv's uv_hrtime: CLOCK_MONOTONIC, as in the other
// processes of a run.
async function waitUntil(ns) {
  const left = ns - process.hrtime.bigint();
  // Timers fire late by a millisecond or so: sleep short, spin the rest.
  if (left > 5000000n) await new Promise((r) => setTimeout(r, Number(left / 1000000n) - 4));
  while (process.hrtime.bigint() < ns);
}

async function main() {
  const args = process.argv.slice(2);
  const opts = args.filter((a) => a.startsWith('--'));
  const [model, threads, warmup, iterations, ...inputs] = args.filter((a) => !a.startsWith('--'));
  const startAt = opts.find((a) => a.startsWith('--start-at='));
  const allLatencies = opts.includes('--latencies');
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
  if (startAt) await waitUntil(BigInt(startAt.slice('--start-at='.length)));
  const lat = [];
  const tStart = process.hrtime.bigint();
  for (let i = 0; i < Number(iterations); i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const tEnd = process.hrtime.bigint();
  const report = {};
  if (allLatencies) {
    Object.assign(report, { latencies_ms: lat.slice(), t_start_ns: tStart.toString(),
      t_end_ns: tEnd.toString() });
  }
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.round(p * (lat.length - 1))];
  report.latency_ms = { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99),
    mean: lat.reduce((a, b) => a + b, 0) / lat.length };
  console.log(JSON.stringify(report));
}

main().catch((e) => { console.error(`ort_run: ${e.message}`); process.exit(1); });
