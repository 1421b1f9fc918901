// ONNX Runtime's side of bench/ml_bench.py: rows/s of one model in onnxruntime-node (CPU),
// and the resident memory its session adds.
//   node bench/ort_bench.js MODEL.onnx --batches 1,64,4096 --seconds S --threads N
// Prints "model rss_mb=M", then per batch and way of using N threads the better of:
//   "ort batch=B threads=N mode=intra rows_per_s=R"   one stream of runs, N intra-op threads
//   "ort batch=B threads=N mode=streams rows_per_s=R" N concurrent streams of 1-thread runs
// (the second only when N > 1). Inputs are normal random floats, as infer_bench uses.
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '..', 'tests', 'ml', 'ort', 'node_modules', 'onnxruntime-node'));

function args() {
  const a = {model: process.argv[2], batches: [1, 64, 4096], seconds: 2, threads: 1};
  for (let i = 3; i < process.argv.length; i += 2) {
    const v = process.argv[i + 1];
    if (process.argv[i] === '--batches') a.batches = v.split(',').map(Number);
    else if (process.argv[i] === '--seconds') a.seconds = Number(v);
    else if (process.argv[i] === '--threads') a.threads = Number(v);
    else throw new Error('unknown argument ' + process.argv[i]);
  }
  return a;
}

function randomInput(rows, width, seed) {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 4294967296;
  const data = new Float32Array(rows * width);
  for (let i = 0; i < data.length; i += 2) {  // Box-Muller
    const r = Math.sqrt(-2 * Math.log(next())), t = 2 * Math.PI * next();
    data[i] = r * Math.cos(t);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(t);
  }
  return new ort.Tensor('float32', data, [rows, width]);
}

async function session(file, threads) {
  return ort.InferenceSession.create(file, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all', executionProviders: ['cpu'],
  });
}

// Rows per second of `streams` concurrent loops of runs, each on its own session.
async function time(sessions, feeds, rows, seconds) {
  for (let w = 0; w < 3; ++w) await Promise.all(sessions.map((s, i) => s.run(feeds[i])));
  let done = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  await Promise.all(sessions.map(async (s, i) => {
    while (process.hrtime.bigint() < end) {
      await s.run(feeds[i]);
      done += rows;
    }
  }));
  return done / (Number(process.hrtime.bigint() - start) / 1e9);
}

(async () => {
  const a = args();
  global.gc && global.gc();
  const before = process.memoryUsage().rss;
  const intra = await session(a.model, a.threads);
  console.log(`model rss_mb=${((process.memoryUsage().rss - before) / 1048576).toFixed(2)}`);
  const name = intra.inputNames[0];
  const width = Number(process.env.DIM_BENCH_WIDTH);
  const streams = [];
  if (a.threads > 1) for (let t = 0; t < a.threads; ++t) streams.push(await session(a.model, 1));
  for (const batch of a.batches) {
    const feed = (seed) => ({[name]: randomInput(batch, width, seed)});
    const r1 = await time([intra], [feed(1234)], batch, a.seconds);
    console.log(`ort batch=${batch} threads=${a.threads} mode=intra rows_per_s=${r1.toFixed(1)}`);
    if (streams.length > 0) {
      const r2 = await time(streams, streams.map((_, i) => feed(1234 + i)), batch, a.seconds);
      console.log(`ort batch=${batch} threads=${a.threads} mode=streams rows_per_s=${r2.toFixed(1)}`);
    }
  }
})().catch((e) => { console.error('ort_bench: ' + e.message); process.exit(1); });
