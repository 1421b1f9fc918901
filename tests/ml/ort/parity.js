#!/usr/bin/env node
// Runs every tests/ml/fixtures/NAME.json through ONNX Runtime (onnxruntime-node, CPU, one
// intra-op thread) and compares ORT's outputs with the fixture's expected ones: "label"
// exactly, float outputs within |a - b| <= tolerance * (1 + |b|).
//
// Usage: node parity.js [FIXTURES_DIR]   (default: ../fixtures next to this script)
// Prints "ok NAME (rows R)" or "FAIL NAME: reason" per fixture; exits 1 if any failed.
//
// Only the outputs named in the fixture's "outputs" are fetched, by name. Classifiers that
// end in a ZipMap keep "probabilities" as a graph output beside "output_probability"
// (seq(map(int64, float)), which onnxruntime-node cannot return), so the scores are still
// checked; the ZipMap output itself is computed by neither side here.
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const MAX_REPORTED = 3;

function flatten(rows) {
  const width = rows.length ? rows[0].length : 0;
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new Error(`input row ${r} has ${row.length} values, not ${width}`);
    row.forEach((v, c) => { data[r * width + c] = v === null ? NaN : v; });
  });
  return {data, width};
}

function compareLabels(actual, expected) {
  const got = Array.from(actual.data, Number);
  if (got.length !== expected.length) return `label has ${got.length} values, expected ${expected.length}`;
  const bad = [];
  got.forEach((v, i) => { if (v !== expected[i]) bad.push(`row ${i}: ${v} != ${expected[i]}`); });
  return bad.length ? `label differs in ${bad.length} rows (${bad.slice(0, MAX_REPORTED).join('; ')})` : null;
}

function compareFloats(name, actual, expected, tolerance) {
  const rows = expected.length;
  const width = rows ? expected[0].length : 0;
  const dims = actual.dims.map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  if (dims[0] !== rows || count !== rows * width) {
    return `${name} has shape [${dims}], expected [${rows}, ${width}]`;
  }
  const bad = [];
  let worst = 0;
  for (let r = 0; r < rows; ++r) {
    for (let c = 0; c < width; ++c) {
      const a = actual.data[r * width + c];
      const b = expected[r][c];
      const err = Math.abs(a - b) / (1 + Math.abs(b));
      if (!(err <= tolerance)) {  // NaN fails too
        bad.push(`[${r}, ${c}]: ${a} vs ${b}`);
        if (!(err <= worst)) worst = err;
      }
    }
  }
  return bad.length ? `${name} differs in ${bad.length} values, worst relative error ${worst} ` +
      `> ${tolerance} (${bad.slice(0, MAX_REPORTED).join('; ')})` : null;
}

async function checkFixture(dir, file) {
  const fixture = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const {data, width} = flatten(fixture.input);
  const rows = fixture.input.length;
  const session = await ort.InferenceSession.create(path.join(dir, fixture.model), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const names = Object.keys(fixture.outputs);
  const missing = names.filter((n) => !session.outputNames.includes(n));
  if (missing.length) return `graph has no output ${missing.join(', ')}`;
  const results = await session.run({input: new ort.Tensor('float32', data, [rows, width])}, names);
  const problems = [];
  for (const name of names) {
    const problem = name === 'label'
        ? compareLabels(results[name], fixture.outputs[name])
        : compareFloats(name, results[name], fixture.outputs[name], fixture.tolerance);
    if (problem) problems.push(problem);
  }
  if (typeof session.release === 'function') await session.release();
  return problems.length ? problems.join('; ') : null;
}

async function main() {
  const dir = path.resolve(process.argv[2] || path.join(__dirname, '..', 'fixtures'));
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  if (!files.length) {
    console.log(`FAIL no fixtures in ${dir}`);
    return 1;
  }
  let failed = 0;
  for (const file of files) {
    const name = path.basename(file, '.json');
    let problem;
    try {
      problem = await checkFixture(dir, file);
    } catch (e) {
      problem = String(e && e.message ? e.message : e).split('\n')[0];
    }
    if (problem) {
      ++failed;
      console.log(`FAIL ${name}: ${problem}`);
    } else {
      const rows = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).input.length;
      console.log(`ok ${name} (rows ${rows})`);
    }
  }
  console.log(`${files.length - failed}/${files.length} fixtures match onnxruntime-node ${ort.env.versions ? ort.env.versions.common : ''}`.trimEnd());
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
