// Prints the summary tables of bench/run.sh from the result files in OUT_DIR:
// native_gemm.json (Google Benchmark), wasm_gemm.json (gemm_vs_tfjs.mjs), e2e.tsv (img/s) and
// memory.jsonl (train_memory), threads.tsv (1 vs 2 threads).
//   node bench/summarize.mjs OUT_DIR
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const read = (f) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : null);
const fmt = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? '-' : Number(v).toFixed(d));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '-');
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

// ---- GEMM -----------------------------------------------------------------------------------------
const native = new Map();  // "NN 64x400x784" -> {kernel: GFLOP/s}
const nj = read('native_gemm.json');
if (nj) {
  for (const b of JSON.parse(nj).benchmarks) {
    const [kernel, , op, dims] = b.name.split('/');
    const key = `${op} ${dims}`;
    if (!native.has(key)) native.set(key, {});
    native.get(key)[kernel] = b.GFLOPs;  // the counter is already in GFLOP/s
  }
}
const wj = read('wasm_gemm.json');
const wasm = wj ? JSON.parse(wj) : [];
console.log('\nGEMM, GFLOP/s, 1 thread (wasm: node; tfjs = TensorFlow.js 4.22 WASM backend, XNNPACK SIMD, same process)');
console.log(pad('shape', 22) + pad('op', 4) + pad('MxNxK', 15) + ['native', 'nat.scalar', 'wasm simd', 'wasm eigen', 'wasm scalar', 'tfjs'].map((h) => lpad(h, 12)).join('') +
  lpad('simd/tfjs', 11) + lpad('simd/eigen', 11));
for (const r of wasm) {
  const op = (r.ta ? 'T' : 'N') + (r.tb ? 'T' : 'N');
  const n = native.get(`${op} ${r.m}x${r.n}x${r.k}`) || {};
  console.log(pad(r.label, 22) + pad(op, 4) + pad(`${r.m}x${r.n}x${r.k}`, 15) +
    [n.simd, n.blocked_scalar, r.simd, r.eigen, r.blocked_scalar, r.tfjs_wasm].map((v) => lpad(fmt(v), 12)).join('') +
    lpad(ratio(r.simd, r.tfjs_wasm), 11) + lpad(ratio(r.simd, r.eigen), 11));
}
console.log('(native = gemm_simd natively = Eigen with AVX2+FMA; tfjs for NT/TN = the better of matMul with transpose flags\n' +
  ' and tf.transpose + plain matMul, because the flags take a slow non-XNNPACK path)');

// ---- end to end ------------------------------------------------------------------------------------
const tsv = read('e2e.tsv');
if (tsv && tsv.trim()) {
  const ips = Object.fromEntries(tsv.trim().split('\n').map((l) => l.split('\t')).map(([k, v]) => [k, Number(v)]));
  console.log('\nTraining throughput, img/s, 1 thread (genlab CLI wall time; PyTorch 1.13 CPU)');
  console.log(pad('model', 26) + ['native', 'wasm', 'pytorch'].map((h) => lpad(h, 10)).join('') + lpad('wasm/torch', 12) + lpad('native/torch', 14) + lpad('target', 20));
  const targets = { vae: 'wasm >= 2x torch', pixelcnn: 'wasm >= 0.6x torch' };
  for (const [m, label] of [['vae', 'VAE-MLP 784-400-20, b64'], ['pixelcnn', 'PixelCNN-S, b32']]) {
    const a = ips[`${m}.native`], w = ips[`${m}.wasm`], t = ips[`${m}.torch`];
    console.log(pad(label, 26) + [a, w, t].map((v) => lpad(fmt(v, 0), 10)).join('') + lpad(ratio(w, t), 12) + lpad(ratio(a, t), 14) + lpad(targets[m], 20));
  }
}

// ---- memory ----------------------------------------------------------------------------------------
const mem = read('memory.jsonl');
if (mem && mem.trim()) {
  console.log('\nPeak memory while training (bench/train_memory.cpp)');
  for (const line of mem.trim().split('\n')) {
    const m = JSON.parse(line);
    console.log(`${pad(m.wasm ? 'wasm' : 'native', 8)}${m.model} b${m.batch}${m.variant ? ` (${m.variant})` : ''}: ` +
      (m.wasm ? `linear memory ${fmt(m.mem_peak_mb)} MB, malloc peak ${fmt(m.malloc_peak_mb)} MB (target <= 64 MB)`
              : `peak RSS ${fmt(m.mem_peak_mb)} MB`) + `, ${fmt(m.img_per_s, 0)} img/s`);
  }
}

// ---- threads -----------------------------------------------------------------------------------------
const thr = read('threads.tsv');
if (thr && thr.trim()) {
  const best = new Map();  // "model build threads" -> best img/s
  for (const [m, b, n, v] of thr.trim().split('\n').map((l) => l.split('\t'))) {
    const k = `${m} ${b} ${n}`;
    if (!Number.isNaN(Number(v))) best.set(k, Math.max(best.get(k) ?? 0, Number(v)));
  }
  console.log('\nThreads: training img/s with 1 and 2 threads (batch split in halves; best of the rounds, wall time)');
  console.log(pad('model', 26) + pad('build', 8) + ['1 thread', '2 threads'].map((h) => lpad(h, 11)).join('') + lpad('speedup', 10) + lpad('target', 10));
  for (const [m, label] of [['vae', 'VAE-MLP 784-400-20, b64'], ['pixelcnn', 'PixelCNN-S, b32']]) {
    for (const b of ['native', 'wasm']) {
      const one = best.get(`${m} ${b} 1`), two = best.get(`${m} ${b} 2`);
      console.log(pad(label, 26) + pad(b, 8) + [one, two].map((v) => lpad(fmt(v, 0), 11)).join('') + lpad(ratio(two, one), 10) + lpad('>= 1.7x', 10));
    }
  }
}
const tb = read('threads_browser.json');
if (tb) {
  for (const r of JSON.parse(tb)) {
    console.log(pad(r.model, 26) + pad('page', 8) + [r.img_per_s_1, r.img_per_s_2].map((v) => lpad(fmt(v, 0), 11)).join('') +
      lpad(`${r.speedup.toFixed(2)}x`, 10) + lpad('>= 1.7x', 10));
  }
}
