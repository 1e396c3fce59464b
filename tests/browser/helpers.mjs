// Shared harness of the browser tests: starts tools/serve.mjs on a free port, launches Debian's
// Chromium through playwright-core (WebGL2 on SwiftShader), opens the playground and waits for
// window.genlab, collects console errors, decodes PNG screenshots, and records metrics.
// The build folder is $GENLAB_WEB_BUILD or build/wasm-release (the page is in <build>/site).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const build = path.resolve(repo, process.env.GENLAB_WEB_BUILD || 'build/wasm-release');
export const screenshots = path.join(build, 'screenshots');

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader', '--use-gl=angle',
  '--use-angle=swiftshader',
];

export async function startServer() {
  const child = fork(path.join(repo, 'tools', 'serve.mjs'), ['--port', '0', '--root', path.join(build, 'site')],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`serve.mjs exited with ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error('serve.mjs did not start within 20 s')), 20000).unref();
  });
  return { url: `http://127.0.0.1:${port}/`, port, close: () => child.kill() };
}

// Playwright's launch() gives every browser a fresh temporary profile (user-data dir) of its own.
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.GENLAB_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return { browser, close: () => browser.close() };
}

// Opens the page in a fresh context (its own storage) and waits until window.genlab is ready.
export async function openPage(browser, url, { context = null, timeout = 90000 } = {}) {
  const ctx = context || await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  const t0 = Date.now();
  await page.goto(url);
  await waitReady(page, timeout);
  return { page, context: ctx, errors, readyMs: Date.now() - t0 };
}

export async function waitReady(page, timeout = 90000) {
  await page.waitForFunction(() => window.genlab && window.genlab.state().ready && !window.genlab.state().pending,
    null, { timeout, polling: 100 });
}

export function ensureDir(dir) { fs.mkdirSync(dir, { recursive: true }); return dir; }

export async function screenshot(page, name) {
  ensureDir(screenshots);
  const file = path.join(screenshots, name + '.png');
  const buf = await page.screenshot({ path: file });
  return { file, buf };
}

// Minimal PNG decoder (8-bit greyscale/RGB/RGBA, non-interlaced: what Chromium writes).
export function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let off = 8, width = 0, height = 0, colorType = 0, depth = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4); depth = data[8]; colorType = data[9];
      if (data[12] !== 0) throw new Error('interlaced PNG not supported');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (depth !== 8) throw new Error('PNG bit depth ' + depth + ' not supported');
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  if (!channels) throw new Error('PNG colour type ' + colorType + ' not supported');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels, out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; ++y) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const prev = y ? out.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    const cur = out.subarray(y * stride, (y + 1) * stride);
    for (let i = 0; i < stride; ++i) {
      const a = i >= channels ? cur[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
      let v = line[i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      cur[i] = v & 255;
    }
  }
  return { width, height, channels, data: out };
}

// Variance of the grey level over all pixels of a decoded PNG.
export function pixelVariance(png) {
  let s = 0, s2 = 0;
  const n = png.width * png.height;
  for (let i = 0; i < n; ++i) {
    let g = 0;
    for (let c = 0; c < Math.min(3, png.channels); ++c) g += png.data[i * png.channels + c];
    g /= Math.min(3, png.channels);
    s += g; s2 += g * g;
  }
  return s2 / n - (s / n) ** 2;
}

// Merges numbers into <build>/screenshots/metrics.json.
export function recordMetrics(obj) {
  ensureDir(screenshots);
  const file = path.join(screenshots, 'metrics.json');
  let cur = {};
  try { cur = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { /* first write */ }
  fs.writeFileSync(file, JSON.stringify(Object.assign(cur, obj), null, 2) + '\n');
}
