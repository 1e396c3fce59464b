// genlab's local server: serves the built playground (and the data/weight assets) on 127.0.0.1.
// Sends COOP/COEP so the page is cross-origin isolated (SharedArrayBuffer for the threaded build),
// serves .wasm as application/wasm, gzips text and wasm when the client accepts it.
// Usage: node tools/serve.mjs [--port 8080] [--root build/wasm-release/site] [--assets assets]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const port = Number(opt('port', process.env.GENLAB_PORT || '8080'));
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`serve: bad --port '${opt('port')}' (expected 0..65535)`);
  process.exit(2);
}
const root = path.resolve(opt('root', path.join(repo, 'build', 'wasm-release', 'site')));
const assets = path.resolve(opt('assets', path.join(repo, 'assets')));
if (!fs.existsSync(path.join(root, 'index.html'))) {
  console.error(`serve: ${root}/index.html not found (build the wasm-release preset first)`);
  process.exit(2);
}

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png',
  '.ttf': 'font/ttf', '.data': 'application/octet-stream', '.safetensors': 'application/octet-stream',
  '.gz': 'application/gzip', '.glsl': 'text/plain; charset=utf-8', '.frag': 'text/plain', '.vert': 'text/plain',
};
const compressible = new Set(['.html', '.js', '.mjs', '.wasm', '.json', '.css', '.glsl', '.data', '.safetensors', '']);
const gzCache = new Map();  // path -> {mtime, promise of the gzipped bytes}

// Compresses off the event loop (zlib's thread pool) so one large file never blocks other requests;
// level 6 keeps the first request of the 7 MB training images well under a second.
function gzipped(file, st) {
  let entry = gzCache.get(file);
  if (!entry || entry.mtime !== st.mtimeMs) {
    entry = {
      mtime: st.mtimeMs,
      promise: fs.promises.readFile(file).then((data) => new Promise((ok, fail) =>
        zlib.gzip(data, { level: 6 }, (err, buf) => (err ? fail(err) : ok(buf))))),
    };
    gzCache.set(file, entry);
  }
  return entry.promise;
}

// Warm the cache for the app files so the first page load does not wait for compression.
function warm(dir) {
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const full = path.join(dir, name);
    const st = fs.statSync(full);
    if (st.isFile() && compressible.has(path.extname(full))) gzipped(full, st).catch(() => {});
  }
}

function resolve(urlPath) {
  let p;
  try { p = decodeURIComponent(urlPath.split('?')[0]); } catch { return null; }
  if (p.includes('\0')) return null;
  let base = root;
  if (p.startsWith('/assets/')) { base = assets; p = p.slice('/assets'.length); }
  if (p.endsWith('/')) p += 'index.html';
  const full = path.resolve(base, '.' + p);
  if (!full.startsWith(base + path.sep) && full !== base) return null;  // no escaping the roots
  return full;
}

const server = http.createServer((req, res) => {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405); res.end(); return; }
  const file = resolve(req.url || '/');
  let st;
  try { st = file && fs.statSync(file); } catch { st = null; }
  if (!st || !st.isFile()) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found\n'); return; }
  const ext = path.extname(file);
  res.setHeader('Content-Type', types[ext] || 'application/octet-stream');
  res.setHeader('Cache-Control', 'no-cache');
  const acceptsGzip = /\bgzip\b/.test(req.headers['accept-encoding'] || '');
  if (acceptsGzip && compressible.has(ext) && st.size < 64 * 1024 * 1024) {
    gzipped(file, st).then((buf) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': buf.length, 'Vary': 'Accept-Encoding' });
      res.end(req.method === 'HEAD' ? undefined : buf);
    }, (e) => { res.writeHead(500); res.end(String(e.message)); });
    return;
  }
  res.writeHead(200, { 'Content-Length': st.size });
  if (req.method === 'HEAD') { res.end(); return; }
  fs.createReadStream(file).pipe(res);
});
server.on('error', (e) => { console.error(`serve: ${e.message}`); process.exit(1); });
server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  console.log(`genlab playground: http://127.0.0.1:${actual}/`);
  warm(root);
  if (process.send) process.send({ port: actual });
});
