// GEMM in wasm, genlab vs TensorFlow.js (WASM backend = XNNPACK, SIMD, 1 thread), in ONE node process.
// Loads the wasm gemm_bench (a MODULARIZE Emscripten module) and runs its main() for the same shapes
// tfjs multiplies here, then prints JSON lines and a table of ratios.
//   node --no-experimental-fetch bench/gemm_vs_tfjs.mjs BUILD_DIR [--shapes square|models|all] [--kernels simd,...]
//        [--min-ms 150] [--json OUT.json]
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const buildDir = argv[0];
if (!buildDir || !fs.existsSync(path.join(buildDir, 'bench', 'gemm_bench.js'))) {
  console.error('usage: node --no-experimental-fetch bench/gemm_vs_tfjs.mjs WASM_BUILD_DIR [--shapes ...] [--kernels ...]');
  process.exit(2);
}
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const shapes = opt('--shapes', 'all');
const kernels = opt('--kernels', 'simd,eigen');
const minMs = Number(opt('--min-ms', '150'));
const jsonOut = opt('--json', null);

// ---- genlab wasm kernels -------------------------------------------------------------------
const lines = [];
const createGemmBench = require(path.resolve(buildDir, 'bench', 'gemm_bench.js'));
await createGemmBench({
  arguments: ['--kernels', kernels, '--shapes', shapes, '--min-ms', String(minMs)],
  print: (s) => { lines.push(s); process.stderr.write(`genlab ${s}\n`); },
  printErr: (s) => process.stderr.write(`${s}\n`),
});
const genlab = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

// ---- TensorFlow.js WASM backend, 1 thread --------------------------------------------------
const tf = require('@tensorflow/tfjs-core');
const tfwasm = require('@tensorflow/tfjs-backend-wasm');
tfwasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();
const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');

function timeTfjs(s) {
  const a = tf.randomUniform(s.ta ? [s.k, s.m] : [s.m, s.k], -0.5, 0.5);
  const b = tf.randomUniform(s.tb ? [s.n, s.k] : [s.k, s.n], -0.5, 0.5);
  const once = () => tf.matMul(a, b, !!s.ta, !!s.tb).dispose();
  once();
  let best = 0;
  for (let rep = 0; rep < 3; ++rep) {
    let iters = 0;
    const t0 = performance.now();
    let t1 = t0;
    while (t1 - t0 < minMs) { once(); ++iters; t1 = performance.now(); }
    best = Math.max(best, (2 * s.m * s.n * s.k * iters) / ((t1 - t0) * 1e-3) * 1e-9);
  }
  a.dispose(); b.dispose();
  return best;
}

const seen = new Map();
for (const r of genlab) {
  const key = `${r.label}|${r.ta}${r.tb}|${r.m}x${r.n}x${r.k}`;
  if (!seen.has(key)) seen.set(key, { shape: r, genlab: {} });
  seen.get(key).genlab[r.kernel] = r.gflops;
}
const rows = [];
for (const { shape, genlab: g } of seen.values()) {
  const tfjs = timeTfjs(shape);
  const row = { label: shape.label, ta: shape.ta, tb: shape.tb, m: shape.m, n: shape.n, k: shape.k, tfjs_wasm: +tfjs.toFixed(2), ...g };
  rows.push(row);
  process.stderr.write(`tfjs   ${JSON.stringify(row)}\n`);
}

// ---- table ---------------------------------------------------------------------------------
const names = kernels.split(',');
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(`\nGEMM GFLOP/s in node ${process.version}, 1 thread; tfjs-backend-wasm ${tfwasm.version_wasm} (SIMD ${simd})`);
console.log(pad('shape', 22) + pad('op', 4) + pad('MxNxK', 16) + names.map((n) => lpad(n, 9)).join('') + lpad('tfjs', 9) + lpad(`${names[0]}/tfjs`, 12));
for (const r of rows) {
  console.log(pad(r.label, 22) + pad((r.ta ? 'T' : 'N') + (r.tb ? 'T' : 'N'), 4) + pad(`${r.m}x${r.n}x${r.k}`, 16) +
    names.map((n) => lpad(r[n] !== undefined ? r[n].toFixed(1) : '-', 9)).join('') + lpad(r.tfjs_wasm.toFixed(1), 9) +
    lpad((r[names[0]] / r.tfjs_wasm).toFixed(2) + 'x', 12));
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(rows, null, 1) + '\n');
