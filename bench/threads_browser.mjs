// Training steps per second in the real page with 1 and 2 engine threads: the threaded build
// (genlab_app_mt, loaded because tools/serve.mjs makes the page cross-origin isolated) in headless
// Chromium, the VAE-MLP 784-400-20 (batch 64) and PixelCNN-S (batch 32) of bench/run.sh. Alternating
// rounds of synchronous `step` commands; wall time per round; prints the best round of each.
//   node bench/threads_browser.mjs [--rounds 3] [--vae-steps 300] [--pixelcnn-steps 24] [--json FILE]
// Needs a built wasm-release (build/wasm-release/site, or $GENLAB_WEB_BUILD) and npm ci (playwright-core).
import fs from 'node:fs';
import { startServer, launchBrowser, openPage } from '../tests/browser/helpers.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const rounds = Number(opt('--rounds', '3'));
const runs = [
  { name: 'VAE-MLP 784-400-20, b64', steps: Number(opt('--vae-steps', '300')),
    setup: { cmd: 'setup', dataset: 'mnist10k', model: 'vae', arch: 'mlp', hidden: 400, latent: 20, batch: 64, seed: 1 } },
  { name: 'PixelCNN-S, b32', steps: Number(opt('--pixelcnn-steps', '24')),
    setup: { cmd: 'setup', dataset: 'mnist10k', model: 'pixelcnn', channels: 32, layers: 5, batch: 32, seed: 1 } },
];

const server = await startServer();
const chrome = await launchBrowser();
const out = [];
try {
  const { page } = await openPage(chrome.browser, server.url);
  const cmd = async (c) => {
    const r = await page.evaluate((x) => window.genlab.command(x), c);
    if (!r.ok) throw new Error(`${JSON.stringify(c)}: ${r.error}`);
    return r;
  };
  const info = await page.evaluate(() => ({ isolated: self.crossOriginIsolated === true, build: window.genlabShell.build }));
  if ((await cmd({ cmd: 'threads', n: 2 })).threads !== 2) throw new Error(`the page has no threads (${JSON.stringify(info)})`);
  for (const r of runs) {
    const best = { 1: Infinity, 2: Infinity };
    for (const n of [1, 2]) {  // warm-up: buffers, the replica, the helper thread
      await cmd({ cmd: 'threads', n });
      await cmd(r.setup);
      await cmd({ cmd: 'step', n: 2 });
    }
    for (let i = 0; i < rounds; ++i) {
      for (const n of (i % 2 ? [2, 1] : [1, 2])) {
        await cmd({ cmd: 'threads', n });
        const ms = await page.evaluate((k) => {
          const t0 = performance.now();
          const res = window.genlab.command({ cmd: 'step', n: k });
          if (!res.ok) throw new Error(res.error);
          return performance.now() - t0;
        }, r.steps);
        best[n] = Math.min(best[n], ms);
      }
    }
    const batch = r.setup.batch;
    const ips = (n) => (r.steps * batch) / (best[n] / 1000);
    out.push({ model: r.name, steps: r.steps, rounds, build: info.build, img_per_s_1: ips(1), img_per_s_2: ips(2),
      speedup: ips(2) / ips(1) });
  }
} finally {
  await chrome.close();
  server.close();
}
console.log('Threads in the page (headless Chromium, threaded build; best of alternating rounds, wall time)');
for (const r of out) {
  console.log(`${r.model.padEnd(26)} 1 thread ${r.img_per_s_1.toFixed(0).padStart(7)} img/s   2 threads ${
    r.img_per_s_2.toFixed(0).padStart(7)} img/s   ${r.speedup.toFixed(2)}x (target >= 1.7x)`);
}
const json = opt('--json', null);
if (json) fs.writeFileSync(json, JSON.stringify(out, null, 2) + '\n');
