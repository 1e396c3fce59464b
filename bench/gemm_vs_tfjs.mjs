// GEMM in wasm, genlab vs TensorFlow.js (WASM backend = XNNPACK, SIMD, 1 thread), in ONE node process.
// Loads the wasm gemm_bench (a MODULARIZE Emscripten module), asks it for the shape list, then for
// each shape alternates timed runs of every genlab kernel and of tf.matMul (best of --runs, each at
// least --min-ms), so machine noise hits both sides alike. Time is the process's CPU time
// (process.cpuUsage), not wall time: on a shared machine the time the process is descheduled does
// not count against either side. Prints a table of GFLOP/s and ratios.
//   node --no-experimental-fetch bench/gemm_vs_tfjs.mjs WASM_BUILD_DIR [--shapes square|models|all]
//        [--kernels simd,eigen,...] [--variants] [--runs 3] [--min-ms 100] [--json OUT.json]
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
const shapesArg = opt('--shapes', 'all');
const kernelsArg = opt('--kernels', 'simd,eigen');
const runs = Number(opt('--runs', '3'));
const minMs = Number(opt('--min-ms', '100'));
const jsonOut = opt('--json', null);

// ---- genlab wasm module: shape list, then one timed run per call --------------------------------
const listed = [];
const createGemmBench = require(path.resolve(buildDir, 'bench', 'gemm_bench.js'));
const extra = argv.includes('--variants') ? ['--variants'] : [];
const mod = await createGemmBench({
  arguments: ['--kernels', kernelsArg, '--shapes', shapesArg, '--list', ...extra],
  print: (s) => { if (s.startsWith('{')) listed.push(JSON.parse(s)); },
  printErr: (s) => process.stderr.write(`${s}\n`),
});
const genlabRepeat = mod.cwrap('gemm_bench_repeat', 'number', ['string', 'number', 'number', 'number', 'number', 'number', 'number']);
const kernelNames = [...new Set(listed.map((r) => r.kernel))];
const shapes = [];
for (const r of listed)
  if (!shapes.some((s) => s.label === r.label && s.ta === r.ta && s.tb === r.tb && s.m === r.m && s.n === r.n && s.k === r.k))
    shapes.push({ label: r.label, ta: r.ta, tb: r.tb, m: r.m, n: r.n, k: r.k });

// ---- TensorFlow.js WASM backend, 1 thread --------------------------------------------------
const tf = require('@tensorflow/tfjs-core');
const tfwasm = require('@tensorflow/tfjs-backend-wasm');
tfwasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();
const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

// Calls runIters(n) with growing n until one call takes >= minMs of CPU; returns GFLOP/s of that call.
function timed(s, runIters) {
  runIters(1);  // warm-up
  for (let iters = 1; ; iters *= 2) {
    const t0 = cpuMs();
    runIters(iters);
    const ms = cpuMs() - t0;
    if (ms >= minMs || iters >= 1 << 20) return (2 * s.m * s.n * s.k * iters) / (ms * 1e-3) * 1e-9;
  }
}

// tf.matMul with transpose flags runs outside XNNPACK in tfjs-backend-wasm 4.22 (~2 GFLOP/s), so for
// transposed operands the better of (flags) and (explicit tf.transpose, then a plain matMul) counts.
function tfjsOneRun(s) {
  const a = tf.randomUniform(s.ta ? [s.k, s.m] : [s.m, s.k], -0.5, 0.5);
  const b = tf.randomUniform(s.tb ? [s.n, s.k] : [s.k, s.n], -0.5, 0.5);
  let gflops = timed(s, (iters) => { for (let i = 0; i < iters; ++i) tf.matMul(a, b, !!s.ta, !!s.tb).dispose(); });
  if (s.ta || s.tb) {
    const viaTranspose = timed(s, (iters) => {
      for (let i = 0; i < iters; ++i)
        tf.tidy(() => tf.matMul(s.ta ? tf.transpose(a) : a, s.tb ? tf.transpose(b) : b)).dispose();
    });
    gflops = Math.max(gflops, viaTranspose);
  }
  a.dispose(); b.dispose();
  return gflops;
}

function genlabOneRun(name, s) {
  return timed(s, (iters) => {
    if (genlabRepeat(name, s.ta, s.tb, s.m, s.n, s.k, iters) !== 0) throw new Error(`unknown kernel ${name}`);
  });
}

const rows = [];
for (const s of shapes) {
  const row = { ...s, tfjs_wasm: 0 };
  for (const name of kernelNames) row[name] = 0;
  for (let rep = 0; rep < runs; ++rep) {
    for (const name of kernelNames) {
      if (listed.some((r) => r.kernel === name && r.label === s.label && r.m === s.m && r.n === s.n && r.k === s.k))
        row[name] = Math.max(row[name], genlabOneRun(name, s));
    }
    row.tfjs_wasm = Math.max(row.tfjs_wasm, tfjsOneRun(s));
  }
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}

// ---- table ---------------------------------------------------------------------------------
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const w = Math.max(8, ...kernelNames.map((n) => n.length + 1));
console.log(`\nGEMM GFLOP/s, node ${process.version}, 1 thread, best of ${runs} alternating runs of >= ${minMs} ms CPU time; ` +
  `tfjs-backend-wasm ${tfwasm.version_wasm} (XNNPACK, SIMD ${simd})`);
console.log(pad('shape', 22) + pad('op', 4) + pad('MxNxK', 15) + kernelNames.map((n) => lpad(n, w)).join('') +
  lpad('tfjs', 8) + lpad(`${kernelNames[0]}/tfjs`, 12));
for (const r of rows) {
  console.log(pad(r.label, 22) + pad((r.ta ? 'T' : 'N') + (r.tb ? 'T' : 'N'), 4) + pad(`${r.m}x${r.n}x${r.k}`, 15) +
    kernelNames.map((n) => lpad(r[n] ? r[n].toFixed(1) : '-', w)).join('') + lpad(r.tfjs_wasm.toFixed(1), 8) +
    lpad((r[kernelNames[0]] / r.tfjs_wasm).toFixed(2) + 'x', 12));
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(rows, null, 1) + '\n');
