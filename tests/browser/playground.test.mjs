// Browser tier, the playground (issue 5) driven through window.genlab: every model trains and its
// loss falls, samples render non-blank, the generation-order replay advances and its receptive-field
// overlay marks exactly the pixels an independent oracle predicts, the URL round-trips, a bad link
// shows a message (as text), export -> import gives identical samples, autosave survives a reload,
// two loads of one link train to bit-identical parameters, fps while training is reported. Every
// panel is screenshotted into <build>/screenshots; numbers go to <build>/screenshots/metrics.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openPage, waitReady, screenshot, decodePng, pixelVariance, recordMetrics } from './helpers.mjs';
import { plainPixelCnnReceptiveField, count } from './receptive_oracle.mjs';

let server, chrome, main;

before(async () => {
  server = await startServer();
  chrome = await launchBrowser();
  main = await openPage(chrome.browser, server.url);
  recordMetrics({ firstLoad: await main.page.evaluate(() => ({ step: window.genlab.state().step, timings: window.genlab.timings() })) });
});

after(async () => {
  if (chrome) await chrome.close();
  if (server) server.close();
});

// Variance of a named image buffer of the engine (samples, completion, ...), in [0,1]^2 units.
function gridStats(page, name) {
  return page.evaluate((n) => {
    const g = window.genlab.grid(n);
    if (!g || !g.n) return { n: 0, variance: 0, mean: 0 };
    let s = 0, s2 = 0;
    for (const v of g.pixels) { s += v; s2 += v * v; }
    const m = s / g.pixels.length;
    return { n: g.n, mean: m, variance: s2 / g.pixels.length - m * m };
  }, name);
}

async function cmd(page, c) {
  const r = await page.evaluate((x) => window.genlab.command(x), c);
  assert.ok(r.ok, `${JSON.stringify(c)} -> ${JSON.stringify(r)}`);
  return r;
}

async function shootPanels(page, tag, panels) {
  for (const p of panels) {
    await cmd(page, { cmd: 'panel', name: p });
    await page.evaluate(() => window.genlab.frames(6));
    await screenshot(page, `panel-${p}-${tag}`);
  }
}

test('the first view shows samples before any training', async () => {
  const { page } = main;
  const s = await page.evaluate(() => window.genlab.state());
  const g = await gridStats(page, 'samples');
  await page.evaluate(() => window.genlab.frames(30));
  const idleFps = await page.evaluate(() => window.genlab.state().fps);
  recordMetrics({ firstView: { model: s.model, step: s.step, readyMs: main.readyMs, samples: g.n }, fpsIdle: idleFps });
  assert.ok(g.n > 0 && g.variance > 0.001, `samples ${JSON.stringify(g)}`);
  await page.evaluate(() => window.genlab.frames(6));
  await screenshot(page, 'first-view');
  assert.deepEqual(main.errors, []);
});

const MODELS = [
  { name: 'vae', setup: { model: 'vae', hidden: 64, latent: 2, batch: 32, seed: 1 }, steps: 300, metric: 'neg_elbo_nats', panels: ['train', 'samples', 'latent', 'draw'] },
  { name: 'ae', setup: { model: 'ae', hidden: 64, latent: 2, batch: 32, seed: 1 }, steps: 300, metric: 'loss', panels: ['latent'], sync: true },
  { name: 'pixelcnn', setup: { model: 'pixelcnn', channels: 8, layers: 2, batch: 8, seed: 1 }, steps: 200, metric: 'nll_nats', panels: ['samples', 'order', 'draw'] },
  { name: 'gated-pixelcnn', setup: { model: 'gated-pixelcnn', channels: 8, layers: 2, batch: 8, seed: 1 }, steps: 150, metric: 'nll_nats', panels: ['order'], sync: true },
  { name: 'conditional-pixelcnn', setup: { model: 'pixelcnn', conditional: 1, channels: 8, layers: 2, batch: 8, seed: 1 }, steps: 150, metric: 'nll_nats', panels: ['samples', 'board'], sync: true },
];
// Models marked sync train with the synchronous "step" command (in chunks), the others in slices
// between frames (the real path, where fps and throughput are measured); both paths give the same
// parameters (tests/engine/test_playground.cpp), so the suite stays within its time budget.

for (const m of MODELS) {
  test(`${m.name}: trains a few hundred steps, the test loss falls, samples are not blank`, { timeout: 120000 }, async () => {
    const { page } = main;
    await cmd(page, Object.assign({ cmd: 'setup', dataset: 'mnist10k' }, m.setup));
    const before = (await cmd(page, { cmd: 'evaluate', max: 200, k: 1 })).metrics[m.metric];
    const t0 = Date.now();
    // Training runs in slices between frames: sample fps and throughput while it runs.
    const fpsSamples = [];
    const run = m.sync
      ? page.evaluate(async (n) => {
        for (let i = 0; i < n; i += 25) { window.genlab.command({ cmd: 'step', n: Math.min(25, n - i) }); await window.genlab.frames(1); }
        return window.genlab.state();
      }, m.steps)
      : page.evaluate((n) => window.genlab.trainSteps(n, 100000), m.steps);
    const probe = setInterval(async () => {
      try { fpsSamples.push(await page.evaluate(() => { const s = window.genlab.state(); return [s.fps, s.imgPerSec, s.stepMs]; })); } catch { /* page busy */ }
    }, 500);
    const s = await run;
    clearInterval(probe);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(s.step, m.steps);
    const after = (await cmd(page, { cmd: 'evaluate', max: 200, k: 1 })).metrics[m.metric];
    const sample = m.name === 'conditional-pixelcnn' ? { cmd: 'sample', n: 16, label: 3, seed: 2 } : { cmd: 'sample', n: 16, seed: 2 };
    await cmd(page, sample);
    const g = await gridStats(page, 'samples');
    const fps = fpsSamples.filter((x) => x[0] > 0);
    const median = (a) => (a.length ? a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)] : null);
    recordMetrics({
      [`train_${m.name}`]: {
        setup: m.setup, steps: m.steps, seconds, lossBefore: before, lossAfter: after, metric: m.metric,
        fpsWhileTrainingMedian: median(fps.map((x) => x[0])), imgPerSecMedian: median(fps.map((x) => x[1])),
        stepMsMedian: median(fps.map((x) => x[2])), fpsProbes: fps.length,
      },
    });
    assert.ok(after < before * 0.9, `${m.metric}: ${before} -> ${after}`);
    assert.ok(g.n === 16 && g.variance > 0.001, `samples ${JSON.stringify(g)}`);
    if (!m.sync) assert.ok(fps.length > 0, 'fps was never reported while training');
    if (m.name === 'vae') {
      await cmd(page, { cmd: 'latent_map', grid: 10 });
      await cmd(page, { cmd: 'encode_test', max: 500 });
      await cmd(page, { cmd: 'interpolate', a: 0, b: 7, steps: 8, mode: 'spherical' });
      await cmd(page, { cmd: 'traverse', dim: 0, index: 3, steps: 9 });
      await cmd(page, { cmd: 'score_test', max: 100 });
      await cmd(page, { cmd: 'draw_test', index: 4 });
      const sc = await cmd(page, { cmd: 'score' });
      assert.ok(sc.nats > 0 && sc.percentile >= 0, JSON.stringify(sc));
      assert.ok((await gridStats(page, 'latent_map')).variance > 0.001);
    }
    if (m.name === 'pixelcnn') {
      await cmd(page, { cmd: 'replay', seed: 4, play: true, speed: 400 });
      await cmd(page, { cmd: 'complete', rows: 14, source: 'test', index: 0, n: 4, seed: 1 });
      await cmd(page, { cmd: 'draw_test', index: 0 });
      await cmd(page, { cmd: 'score' });
    }
    await shootPanels(page, m.name, m.panels);
  });
}

test('generation-order replay advances; the overlay marks the receptive field of a known pixel', { timeout: 90000 }, async () => {
  const { page } = main;
  const layers = 2;
  await cmd(page, { cmd: 'setup', model: 'pixelcnn', channels: 8, layers, batch: 8, seed: 3 });
  const r = await cmd(page, { cmd: 'replay', seed: 5, play: false });
  assert.equal(r.total, 784);
  assert.equal(r.pos, 0);
  await cmd(page, { cmd: 'replay_play', speed: 300 });
  await page.waitForTimeout(1000);
  const s1 = (await page.evaluate(() => window.genlab.state())).replay;
  assert.ok(s1.pos > 0, `replay did not advance: ${JSON.stringify(s1)}`);
  await cmd(page, { cmd: 'replay_seek', pos: 14 * 28 + 14 });
  const s2 = (await page.evaluate(() => window.genlab.state())).replay;
  assert.equal(s2.pixel, 14 * 28 + 14);
  assert.equal(s2.playing, false);
  assert.equal(s2.probs.length, 2);
  assert.ok(Math.abs(s2.probs[0] + s2.probs[1] - 1) < 1e-4, `p(x_i | x_<i) = ${s2.probs}`);
  // The overlay follows the current pixel: compare with the independent oracle.
  const pixel = 14 * 28 + 14;
  const expected = plainPixelCnnReceptiveField(28, 28, layers, pixel);
  // Query and read the overlay in one task: the order panel's replay moves the overlay between frames.
  const query = () => page.evaluate(() => {
    const r = window.genlab.command({ cmd: 'receptive_field', x: 14, y: 14 });
    return { r, mask: Array.from(window.genlab.receptiveMask()) };
  });
  const q = await query();
  assert.ok(q.r.ok, JSON.stringify(q.r));
  const f = q.r, mask = q.mask;
  assert.equal(f.count, count(expected));
  assert.deepEqual(mask, Array.from(expected));
  recordMetrics({ receptiveField: { model: 'pixelcnn', layers, pixel, count: f.count, before: pixel } });
  await cmd(page, { cmd: 'panel', name: 'order' });
  await page.evaluate(() => window.genlab.frames(6));
  await screenshot(page, 'panel-order-receptive-pixelcnn');
  // Gated PixelCNN: no blind spot, so in the row above the pixel it sees as far right as left.
  await cmd(page, { cmd: 'setup', model: 'gated-pixelcnn', channels: 8, layers, batch: 8, seed: 3 });
  const gq = await query();
  assert.ok(gq.r.ok, JSON.stringify(gq.r));
  const g = gq.r, gm = gq.mask;
  for (let i = pixel; i < 784; ++i) assert.equal(gm[i], 0, `gated depends on later pixel ${i}`);
  const row = gm.slice(13 * 28, 14 * 28);
  const left = 14 - row.indexOf(1), right = row.lastIndexOf(1) - 14;
  const plainRow = Array.from(expected).slice(13 * 28, 14 * 28);
  const plainRight = plainRow.lastIndexOf(1) - 14, plainLeft = 14 - plainRow.indexOf(1);
  assert.ok(plainRight < plainLeft, 'oracle: the plain PixelCNN has its blind spot up-right');
  assert.ok(right >= left, `gated row above: left ${left}, right ${right}`);
  recordMetrics({ receptiveFieldGated: { layers, pixel, count: g.count, rowAboveLeft: left, rowAboveRight: right } });
});

test('URL round trip: a link restores the whole set-up, panel and instructor options', { timeout: 90000 }, async () => {
  const { page } = main;
  await cmd(page, { cmd: 'setup', model: 'vae', dataset: 'mnist10k', hidden: 72, latent: 3, lr: 0.002, batch: 24, seed: 9 });
  await cmd(page, { cmd: 'panel', name: 'latent' });
  await cmd(page, { cmd: 'sample', temperature: 0.8 });
  await cmd(page, { cmd: 'ui', lock: ['model', 'dataset'], hide: ['draw'] });
  await page.waitForTimeout(700);  // the hash is synchronised every 500 ms
  const link = await page.evaluate(() => window.genlab.link());
  assert.match(link, /#model=vae&dataset=mnist10k&seed=9/);
  const want = await page.evaluate(() => window.genlab.state());
  const other = await openPage(chrome.browser, link);
  const got = await other.page.evaluate(() => window.genlab.state());
  recordMetrics({ warmServerLoad: { readyMs: other.readyMs, timings: await other.page.evaluate(() => window.genlab.timings()) } });
  assert.deepEqual(got.config, want.config);
  assert.equal(got.panel, 'latent');
  assert.equal(got.samples.temperature, 0.8);
  assert.deepEqual(got.locked, ['dataset', 'model']);
  assert.deepEqual(got.hidden, ['draw']);
  assert.deepEqual(other.errors, []);
  await other.page.evaluate(() => window.genlab.frames(6));
  await screenshot(other.page, 'instructor-link');
  await other.context.close();
  await cmd(page, { cmd: 'ui', lock: [], hide: [] });
  await cmd(page, { cmd: 'sample', temperature: 1 });
});

test('a bad link shows a message, uses the defaults, and its text never becomes HTML', { timeout: 90000 }, async () => {
  for (const hash of ['#model=gan&hidden=12', '#model=vae&hidden=999999&latent=abc',
    '#model=%3Cimg%20src%3Dx%20onerror%3Dwindow.pwned%3D1%3E', '#panel=%3Cb%3Ebold%3C%2Fb%3E', '#%E0%A4%A']) {
    const o = await openPage(chrome.browser, server.url + hash);
    const r = await o.page.evaluate(() => ({
      state: window.genlab.state(),
      notice: (document.getElementById('genlab-notice') || {}).textContent || '',
      imgs: document.querySelectorAll('img').length,
      bold: document.querySelectorAll('b').length,
      pwned: !!window.pwned,
    }));
    assert.ok(r.state.messageError, `${hash}: no error message (${r.state.message})`);
    assert.match(r.state.message, /link could not be used/);
    assert.match(r.notice, /link could not be used/);
    assert.equal(r.state.model, 'vae', `${hash}: not the default model`);
    assert.equal(r.imgs + r.bold, 0);
    assert.equal(r.pwned, false);
    if (hash.includes('img')) {
      assert.ok(r.notice.includes('<img'), 'the link text is shown as text');
      await o.page.evaluate(() => window.genlab.frames(6));
      await screenshot(o.page, 'bad-link');
    }
    await o.context.close();
  }
});

test('export -> import gives identical samples for a fixed seed', { timeout: 90000 }, async () => {
  const { page } = main;
  await cmd(page, { cmd: 'setup', model: 'pixelcnn', channels: 8, layers: 2, batch: 8, seed: 6 });
  await page.evaluate(() => window.genlab.trainSteps(30));
  const a = await cmd(page, { cmd: 'sample', n: 8, seed: 11 });
  const ha = (await cmd(page, { cmd: 'hash' })).params;
  const b64 = await page.evaluate(() => {
    const bytes = window.genlab.exportModel(false);
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  });
  const other = await openPage(chrome.browser, server.url + '#pre=0');
  const r = await other.page.evaluate(async (s) => {
    const bin = atob(s), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; ++i) bytes[i] = bin.charCodeAt(i);
    return window.genlab.importModel(bytes);
  }, b64);
  assert.ok(r.ok, JSON.stringify(r));
  const b = await cmd(other.page, { cmd: 'sample', n: 8, seed: 11 });
  assert.equal(b.hash, a.hash);
  assert.equal((await cmd(other.page, { cmd: 'hash' })).params, ha);
  // A broken file is explained and the model stays.
  const bad = await other.page.evaluate(() => window.genlab.importModel(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])));
  assert.equal(bad.ok, false);
  assert.match(bad.error, /import failed/);
  assert.equal((await cmd(other.page, { cmd: 'hash' })).params, ha);
  // PNG and CSV exports produce real files.
  const files = await other.page.evaluate(async () => {
    const png = await window.genlab.pngBlob('samples', 4);
    return { pngType: png.type, pngSize: png.size, csv: window.genlab.curvesCsv().split('\n')[0] };
  });
  assert.equal(files.pngType, 'image/png');
  assert.ok(files.pngSize > 200);
  assert.match(files.csv, /^split,step/);
  await other.context.close();
});

test('autosave to IndexedDB survives a reload; "new" starts clean', { timeout: 90000 }, async () => {
  const o = await openPage(chrome.browser, server.url + '#model=vae&hidden=40&latent=2&batch=16&seed=2&pre=0');
  await o.page.evaluate(() => window.genlab.trainSteps(40));
  const want = await o.page.evaluate(() => ({ hash: window.genlab.command({ cmd: 'hash' }).params, state: window.genlab.state() }));
  assert.equal(await o.page.evaluate(() => window.genlab.autosave()), true);
  await o.page.reload();
  await waitReady(o.page);
  const got = await o.page.evaluate(() => ({ hash: window.genlab.command({ cmd: 'hash' }).params, state: window.genlab.state() }));
  assert.equal(got.state.step, 40);
  assert.equal(got.hash, want.hash);
  assert.equal(got.state.curves.trainPoints, want.state.curves.trainPoints);
  assert.deepEqual(got.state.config, want.state.config);
  const n = await o.page.evaluate(() => window.genlab.command({ cmd: 'new' }));
  assert.ok(n.ok);
  assert.equal(await o.page.evaluate(() => window.genlab.state().step), 0);
  assert.deepEqual(o.errors, []);
  await o.context.close();
});

test('the same link and seed give bit-identical parameters after N steps', { timeout: 120000 }, async () => {
  const link = server.url + '#model=vae&dataset=mnist10k&hidden=32&latent=2&batch=16&seed=5&pre=0';
  const hashes = [];
  for (let i = 0; i < 2; ++i) {
    const o = await openPage(chrome.browser, link);  // a fresh context: no autosave
    await o.page.evaluate(() => window.genlab.trainSteps(60));
    hashes.push(await o.page.evaluate(() => window.genlab.command({ cmd: 'hash' }).params));
    await o.context.close();
  }
  assert.equal(hashes[0], hashes[1]);
});

test('no console errors during the whole session', () => {
  assert.deepEqual(main.errors, []);
});
