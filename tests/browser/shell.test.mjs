// Browser tier, the platform checks: the page loads with no console errors, the canvas is not blank
// after a few frames (pixel variance of a screenshot), a screenshot lands in <build>/screenshots,
// window.genlab answers version() and state() (JSON), and the page's transfer size (html + js + wasm,
// gzip) stays within 1.5 MB.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, launchBrowser, openPage, screenshot, decodePng, pixelVariance, recordMetrics } from './helpers.mjs';

let server, chrome, opened;

before(async () => {
  server = await startServer();
  chrome = await launchBrowser();
  opened = await openPage(chrome.browser, server.url);
});

after(async () => {
  if (chrome) await chrome.close();
  if (server) server.close();
});

test('page loads with no console errors', async () => {
  await opened.page.evaluate(() => window.genlab.frames(5));
  assert.deepEqual(opened.errors, []);
});

test('canvas is not blank after a few frames; screenshot saved', async () => {
  const { page } = opened;
  await page.evaluate(() => window.genlab.frames(10));
  const { file, buf } = await screenshot(page, 'shell');
  const png = decodePng(buf);
  const variance = pixelVariance(png);
  recordMetrics({ shellScreenshot: file, shellPixelVariance: Number(variance.toFixed(2)) });
  assert.ok(png.width >= 640 && png.height >= 400, `screenshot is ${png.width}x${png.height}`);
  assert.ok(variance > 10, `pixel variance ${variance} (blank canvas?)`);
  // The canvas follows the window and its device pixel ratio.
  const size = await page.evaluate(() => {
    const c = document.getElementById('canvas');
    return { w: c.width, h: c.height, cw: c.clientWidth, ch: c.clientHeight, dpr: devicePixelRatio };
  });
  assert.equal(size.w, Math.round(size.cw * size.dpr));
  assert.equal(size.h, Math.round(size.ch * size.dpr));
});

test('window.genlab answers version() and state() as JSON', async () => {
  const r = await opened.page.evaluate(() => ({
    version: window.genlab.version(),
    state: window.genlab.state(),
    raw: window.Module.genlabState(),
  }));
  assert.match(r.version, /^\d+\.\d+\.\d+/);
  assert.doesNotThrow(() => JSON.parse(r.raw));
  for (const k of ['version', 'model', 'dataset', 'step', 'losses', 'fps', 'imgPerSec', 'panel', 'config', 'training'])
    assert.ok(k in r.state, `state() has no "${k}"`);
  assert.equal(r.state.version, r.version);
  assert.equal(r.state.ready, true);
});

function gzipSize(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      let n = 0;
      res.on('data', (d) => { n += d.length; });
      res.on('end', () => (res.statusCode === 200 ? resolve({ bytes: n, encoding: res.headers['content-encoding'] || 'identity' })
        : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

test('page transfer (html + js + wasm, gzip) <= 1.5 MB', async () => {
  const html = await opened.page.evaluate(() => document.documentElement.outerHTML);
  const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
  const files = ['index.html', ...scripts, 'genlab_app.wasm'];
  const sizes = {};
  let total = 0;
  for (const f of files) {
    const { bytes, encoding } = await gzipSize(server.url + f);
    assert.equal(encoding, 'gzip', `${f} is not served gzipped`);
    sizes[f] = bytes;
    total += bytes;
  }
  let data = null;
  try { data = (await gzipSize(server.url + 'genlab_app.data')).bytes; } catch { /* no preloaded data */ }
  recordMetrics({ transferGzipBytes: { total, files: sizes, limit: 1.5 * 1024 * 1024, preloadedDataNotCounted: data } });
  assert.ok(total <= 1.5 * 1024 * 1024, `html+js+wasm gzip = ${total} bytes`);
});
