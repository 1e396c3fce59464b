// Two-thread GEMM speedup of the wasm "simd" kernel (engine threads, parallel.h), for a pthreads build of
// gemm_bench. Wall time (threads are the point), best of --runs alternating 1- and 2-thread runs.
//   NODE_OPTIONS=--no-experimental-fetch node bench/gemm_threads.mjs WASM_MT_BUILD_DIR [--shapes square|models|all]
//        [--runs 5] [--min-ms 100]
// Build: cmake --preset wasm-release -B build/bench-wasm-mt -DCMAKE_CXX_FLAGS=-pthread -DCMAKE_C_FLAGS=-pthread
//          -DCMAKE_EXE_LINKER_FLAGS="-pthread -sPTHREAD_POOL_SIZE=2" && cmake --build build/bench-wasm-mt --target gemm_bench
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const runs = Number(opt('--runs', '5'));
const minMs = Number(opt('--min-ms', '100'));
const listed = [];
const mod = await require(path.resolve(argv[0], 'bench', 'gemm_bench.js'))({
  arguments: ['--kernels', 'simd', '--shapes', opt('--shapes', 'all'), '--list'],
  print: (s) => { if (s.startsWith('{')) listed.push(JSON.parse(s)); },
});
const repeat = mod.cwrap('gemm_bench_repeat', 'number', ['string', 'number', 'number', 'number', 'number', 'number', 'number']);
const setThreads = mod.cwrap('gemm_bench_set_threads', 'number', ['number']);
if (setThreads(2) !== 2) { console.error('this gemm_bench has no threads (build it with -pthread)'); process.exit(2); }

function gflops(s) {
  repeat('simd', s.ta, s.tb, s.m, s.n, s.k, 1);
  for (let iters = 1; ; iters *= 2) {
    const t0 = performance.now();
    repeat('simd', s.ta, s.tb, s.m, s.n, s.k, iters);
    const ms = performance.now() - t0;
    if (ms >= minMs) return (2 * s.m * s.n * s.k * iters) / (ms * 1e-3) * 1e-9;
  }
}
console.log(`GEMM "simd" in wasm, GFLOP/s (wall), best of ${runs} alternating runs; node ${process.version}`);
console.log('shape'.padEnd(22) + 'op'.padEnd(4) + 'MxNxK'.padEnd(15) + '1 thread'.padStart(10) + '2 threads'.padStart(11) + 'speedup'.padStart(9));
for (const s of listed) {
  let one = 0, two = 0;
  for (let r = 0; r < runs; ++r) {
    setThreads(1); one = Math.max(one, gflops(s));
    setThreads(2); two = Math.max(two, gflops(s));
  }
  console.log(s.label.padEnd(22) + ((s.ta ? 'T' : 'N') + (s.tb ? 'T' : 'N')).padEnd(4) + `${s.m}x${s.n}x${s.k}`.padEnd(15) +
    one.toFixed(1).padStart(10) + two.toFixed(1).padStart(11) + `${(two / one).toFixed(2)}x`.padStart(9));
}
process.exit(0);  // the pthread pool keeps node alive otherwise
