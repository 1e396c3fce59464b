// genlab's JavaScript glue: window.genlab (the API tests and instructors' scripts drive the app
// with), the URL hash that holds the whole set-up, IndexedDB autosave, data-set and pretrained
// downloads handed to the engine as bytes, file import/export (safetensors, PNG, CSV) and
// drag-and-drop of IDX files. Everything shown to the user goes through textContent or the engine's
// message line: text from links or files never becomes HTML.
//
// window.genlab appears only when the app is ready (model set up, data loaded, autosave or pretrained
// weights applied); window.genlabReady is a promise that resolves to it.
(function () {
  'use strict';

  const DATA_FILES = {
    'mnist10k': ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 'test-images-idx3-ubyte', 'test-labels-idx1-ubyte'],
    'fashion-mnist': ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 'test-images-idx3-ubyte.gz',
                      'test-labels-idx1-ubyte.gz'],
  };
    const MAX_HASH = 4096;
  const AUTOSAVE_MS = 4000;
  const DB_NAME = 'genlab', DB_STORE = 'autosave', DB_KEY = 'current';

  let readyResolve;
  window.genlabReady = new Promise((resolve) => { readyResolve = resolve; });

  let M = null;                 // the Emscripten Module once the runtime is up
  let ready = false;
  let linkOptions = { pre: true, hasPre: false };
  let fetching = new Set();     // data sets being downloaded
  let lastSavedKey = '';
  let saving = null;
  const timings = {};            // start-up milestones in ms since navigation (genlab.timings())
  const mark = (name) => { timings[name] = Math.round(performance.now()); };

  // ---- small helpers -------------------------------------------------------------------------

  function parse(text) {
    try { return JSON.parse(text); } catch (e) { return { ok: false, error: 'unreadable reply: ' + e.message }; }
  }

  function notice(text, isError) {
    // A DOM line under the canvas in addition to the engine's own message line (visible even before
    // the first ImGui frame). textContent only.
    let el = document.getElementById('genlab-notice');
    if (!el) {
      el = document.createElement('div');
      el.id = 'genlab-notice';
      el.setAttribute('role', 'alert');
      el.style.cssText = 'position:fixed;left:50%;bottom:14px;transform:translateX(-50%);max-width:80vw;' +
        'padding:8px 14px;border-radius:6px;font:14px/1.4 system-ui,sans-serif;z-index:10;cursor:pointer;' +
        'box-shadow:0 2px 12px #0008;white-space:pre-wrap';
      el.addEventListener('click', () => { el.style.display = 'none'; });
      document.body.appendChild(el);
    }
    el.textContent = String(text);
    el.style.background = isError ? '#4a1f22' : '#263140';
    el.style.color = isError ? '#ffdede' : '#e6eefc';
    el.style.display = 'block';
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => { el.style.display = 'none'; }, isError ? 15000 : 6000);
    if (M) M.genlabCommand(JSON.stringify({ cmd: 'message', text: String(text).slice(0, 500), error: !!isError }));
  }

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function frames(n) {
    return new Promise((resolve) => {
      let left = Math.max(1, n | 0);
      const tick = () => { if (--left <= 0) resolve(); else requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    });
  }

  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

  // ---- engine calls ----------------------------------------------------------------------------

  function state() { return parse(M.genlabState()); }

  function command(c) {
    let text;
    if (typeof c === 'string') text = c;
    else {
      try { text = JSON.stringify(c); } catch (e) { return { ok: false, error: 'command is not serialisable: ' + e.message }; }
    }
    const reply = parse(M.genlabCommand(text));
    let name = '';
    try { name = typeof c === 'string' ? JSON.parse(c).cmd : c.cmd; } catch (e) { /* reported by the engine */ }
    if (reply.ok && name === 'new') idbDelete().catch(() => {});
    if (reply.ok && reply.pending) pumpData();
    return reply;
  }

  // ---- data sets -------------------------------------------------------------------------------

  async function fetchBytes(url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(url + ': HTTP ' + res.status);
    return new Uint8Array(await res.arrayBuffer());
  }

  async function loadDataset(name) {
    const files = DATA_FILES[name];
    if (!files || fetching.has(name)) return;
    fetching.add(name);
    try {
      M.genlabCommand(JSON.stringify({ cmd: 'message', text: 'loading data set ' + name + '...' }));
      const t0 = performance.now();
      const early = earlyData[name];
      delete earlyData[name];
      const all = await (early || Promise.all(files.map((f) => fetchBytes('assets/data/' + name + '/' + f))));
      timings['fetch ' + name] = Math.round(performance.now() - t0);
      const t1 = performance.now();
      files.forEach((f, i) => {
        const r = parse(M.genlabPutFile(name + '/' + f, all[i]));
        if (!r.ok) throw new Error(r.error);
      });
      timings['parse ' + name + ' + set-up'] = Math.round(performance.now() - t1);
    } catch (e) {
      notice('Could not load data set ' + name + ': ' + e.message + ' (run tools/setup.sh to build the data sets)', true);
    } finally {
      fetching.delete(name);
    }
  }

  function pumpData() {
    if (!M) return Promise.resolve();
    const s = state();
    return Promise.all((s.missingData || []).map(loadDataset));
  }

  async function untilSettled(timeoutMs) {
    const t0 = performance.now();
    for (;;) {
      await pumpData();
      const s = state();
      if (!s.pending && fetching.size === 0) return s;
      if (performance.now() - t0 > (timeoutMs || 120000)) throw new Error('timed out waiting for data sets');
      await sleep(50);
    }
  }

  // ---- URL hash --------------------------------------------------------------------------------

  // #model=vae&dataset=mnist10k&seed=1&hidden=400&latent=16&...&panel=samples&lock=model,dataset&hide=draw&pre=0
  function parseHash(hash) {
    const out = { setup: {}, panel: null, lock: null, hide: null, temp: null, label: null, pre: true, hasPre: false, error: null, empty: true };
    const h = String(hash || '').replace(/^#/, '');
    if (!h) return out;
    out.empty = false;
    if (h.length > MAX_HASH) { out.error = 'the link is too long (' + h.length + ' characters)'; return out; }
    let params;
    try {
      decodeURIComponent(h.replace(/\+/g, ' '));  // malformed %-escapes are an error, not silently kept
      params = new URLSearchParams(h);
    } catch (e) {
      out.error = 'the link is malformed (' + e.message + ')';
      return out;
    }
    const seen = new Set();
    for (const [k, v] of params) {
      if (seen.has(k)) { out.error = 'the link sets "' + k + '" twice'; return out; }
      seen.add(k);
      if (k === 'panel') out.panel = v;
      else if (k === 'lock') out.lock = v;
      else if (k === 'hide') out.hide = v;
      else if (k === 'temp' || k === 'label') {
        const x = Number(v);
        if (v.trim() === '' || !Number.isFinite(x)) { out.error = k + ' must be a number (got "' + v + '")'; return out; }
        out[k] = x;
      }
      else if (k === 'pre') {
        if (v !== '0' && v !== '1') { out.error = 'pre must be 0 or 1'; return out; }
        out.pre = v === '1';
        out.hasPre = true;
      } else out.setup[k] = v;
    }
    return out;
  }

  function hashFromState(s) {
    const p = new URLSearchParams();
    const c = s.config || {};
    p.set('model', c.model);
    p.set('dataset', c.dataset);
    p.set('seed', String(c.seed));
    for (const k of Object.keys(c)) if (k !== 'model' && k !== 'dataset' && k !== 'seed') p.set(k, c[k]);
    p.set('panel', s.panel);
    if (s.locked && s.locked.length) p.set('lock', s.locked.join(','));
    if (s.hidden && s.hidden.length) p.set('hide', s.hidden.join(','));
    if (s.samples && s.samples.temperature !== 1) p.set('temp', String(Math.round(s.samples.temperature * 1000) / 1000));
    if (s.samples && s.samples.label >= 0) p.set('label', String(s.samples.label));
    if (linkOptions.hasPre) p.set('pre', linkOptions.pre ? '1' : '0');
    return '#' + p.toString().replace(/%2C/g, ',');
  }

  function syncHash() {
    if (!ready) return;
    const s = state();
    if (!s.ready) return;
    const h = hashFromState(s);
    if (h !== location.hash) history.replaceState(null, '', h);
  }

  function link() { syncHash(); return location.href; }

  async function copyLink() {
    const url = link();
    try {
      await navigator.clipboard.writeText(url);
    } catch (e) {
      const ta = document.createElement('textarea');
      ta.value = url;
      document.body.appendChild(ta);
      ta.select();
      try { document.execCommand('copy'); } catch (e2) { /* shown below */ }
      ta.remove();
    }
    notice('Link copied: ' + url, false);
    return url;
  }

  // ---- IndexedDB autosave ------------------------------------------------------------------------

  function idb() {
    return new Promise((resolve, reject) => {
      if (!window.indexedDB) { reject(new Error('IndexedDB is not available')); return; }
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(DB_STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function idbOp(mode, fn) {
    const db = await idb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(DB_STORE, mode);
        const req = fn(tx.objectStore(DB_STORE));
        let result;
        req.onsuccess = () => { result = req.result; };
        tx.oncomplete = () => resolve(result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
      });
    } finally {
      db.close();
    }
  }
  const idbGet = () => idbOp('readonly', (st) => st.get(DB_KEY));
  const idbPut = (v) => idbOp('readwrite', (st) => st.put(v, DB_KEY));
  const idbDelete = () => idbOp('readwrite', (st) => st.delete(DB_KEY));

  async function autosave(force) {
    if (!ready) return false;
    if (saving) return saving;
    const s = state();
    if (!s.ready || s.pending) return false;
    const hash = hashFromState(s);
    const key = hash + '|' + s.step + '|' + s.curves.version + '|' + s.board.length;
    if (!force && key === lastSavedKey) return false;
    const bytes = M.genlabExportModel(true);
    if (typeof bytes === 'string') { console.warn('genlab autosave: ' + bytes); return false; }
    saving = idbPut({ bytes: bytes, hash: hash, step: s.step, time: Date.now(), version: s.version })
      .then(() => { lastSavedKey = key; return true; })
      .catch((e) => { console.warn('genlab autosave failed: ' + e.message); return false; })
      .finally(() => { saving = null; });
    return saving;
  }

  // ---- models: import / export / pretrained -----------------------------------------------------------

  async function toBytes(x) {
    if (x instanceof Uint8Array) return x;
    if (x instanceof ArrayBuffer) return new Uint8Array(x);
    if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    if (x && typeof x.arrayBuffer === 'function') return new Uint8Array(await x.arrayBuffer());
    throw new Error('expected a File, Blob, ArrayBuffer or Uint8Array');
  }

  async function importModel(x) {
    let reply;
    try {
      reply = parse(M.genlabImportModel(await toBytes(x)));
    } catch (e) {
      reply = { ok: false, error: 'import failed: ' + e.message };
    }
    if (!reply.ok) notice(reply.error, true);
    else if (reply.pending) await untilSettled();
    return reply;
  }

  function exportModel(withState) {
    const r = M.genlabExportModel(!!withState);
    if (typeof r === 'string') throw new Error(r);
    return r;
  }

  function downloadModel() {
    const s = state();
    try {
      download(new Blob([exportModel(false)], { type: 'application/octet-stream' }),
        'genlab-' + s.model + '-' + s.dataset + '-step' + s.step + '.safetensors');
    } catch (e) { notice('Export failed: ' + e.message, true); }
  }

  // Downloads the pretrained checkpoints for the set-up being made (in parallel with the data sets).
  async function prefetchPretrained() {
    try {
      const s = state(), c = s.pendingConfig || s.config;
      const index = await earlyIndex;
      if (!index) return [];
      const entries = (index.models || []).filter((e) => e.model === c.model && e.dataset === c.dataset);
      return await Promise.all(entries.map(async (e) => ({ file: e.file, bytes: await fetchBytes('assets/pretrained/' + e.file) })));
    } catch (e) {
      console.warn('genlab: no pretrained weights (' + e.message + ')');
      return [];
    }
  }

  // Loads the first checkpoint whose model configuration is exactly the current one.
  function applyPretrained(list) {
    for (const { file, bytes } of list) {
      const r = parse(M.genlabLoadPretrained(bytes));
      if (r.ok) return file;
    }
    return null;
  }

  // ---- images ------------------------------------------------------------------------------------

  function grid(name) { return M.genlabImageGrid(name || 'samples'); }

  // A canvas with the images of a buffer in a grid (nearest-neighbour upscaled).
  function gridCanvas(name, scale) {
    const g = grid(name);
    if (!g || !g.n) throw new Error('no images in "' + (name || 'samples') + '" yet');
    scale = Math.max(1, Math.min(16, scale | 0 || 4));
    const cols = Math.ceil(Math.sqrt(g.n)), rows = Math.ceil(g.n / cols), gap = 1;
    const W = cols * (g.w + gap) + gap, H = rows * (g.h + gap) + gap;
    const small = document.createElement('canvas');
    small.width = W;
    small.height = H;
    const ctx = small.getContext('2d');
    const img = ctx.createImageData(W, H);
    img.data.fill(40);
    const plane = g.h * g.w;
    for (let i = 0; i < g.n; ++i) {
      const ox = gap + (i % cols) * (g.w + gap), oy = gap + Math.floor(i / cols) * (g.h + gap);
      for (let y = 0; y < g.h; ++y) for (let x = 0; x < g.w; ++x) {
        const o = ((oy + y) * W + ox + x) * 4, base = i * g.c * plane + y * g.w + x;
        for (let ch = 0; ch < 3; ++ch) img.data[o + ch] = Math.round(255 * g.pixels[base + (g.c === 3 ? ch : 0) * plane]);
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    const big = document.createElement('canvas');
    big.width = W * scale;
    big.height = H * scale;
    const bctx = big.getContext('2d');
    bctx.imageSmoothingEnabled = false;
    bctx.drawImage(small, 0, 0, big.width, big.height);
    return big;
  }

  function pngBlob(name, scale) {
    const c = gridCanvas(name, scale);
    return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  }

  async function downloadPng(name, scale) {
    try {
      const s = state();
      download(await pngBlob(name, scale), 'genlab-' + s.model + '-' + (name || 'samples') + '-step' + s.step + '.png');
    } catch (e) { notice('PNG export failed: ' + e.message, true); }
  }

  function downloadCsv() {
    const s = state();
    download(new Blob([M.genlabCurvesCsv()], { type: 'text/csv' }), 'genlab-' + s.model + '-curves-step' + s.step + '.csv');
  }

  // ---- files: import dialog and drag-and-drop ------------------------------------------------------

  function isLabels(name) { return /labels|idx1/i.test(name); }

  async function importFiles(files) {
    files = Array.from(files || []);
    const models = files.filter((f) => /\.safetensors$/i.test(f.name));
    const idx = files.filter((f) => !/\.safetensors$/i.test(f.name));
    for (const f of models) await importModel(f);
    if (!idx.length) return { ok: models.length > 0 };
    const images = idx.filter((f) => !isLabels(f.name)), labels = idx.filter((f) => isLabels(f.name));
    if (images.length !== 1 || labels.length > 1) {
      notice('Drop one IDX images file (optionally with its labels file); got: ' + idx.map((f) => f.name).join(', '), true);
      return { ok: false };
    }
    let r = parse(M.genlabPutFile('upload/images', await toBytes(images[0])));
    if (r.ok && labels.length) r = parse(M.genlabPutFile('upload/labels', await toBytes(labels[0])));
    if (!r.ok) { notice(images[0].name + ': ' + r.error, true); return r; }
    r = command({ cmd: 'setup', dataset: 'upload' });
    if (!r.ok) notice('The dropped data set cannot be used with this model: ' + r.error, true);
    else notice('Training on ' + images[0].name + (labels.length ? ' with labels' : '') + ' (every tenth image is a test image)', false);
    return r;
  }

  function openImportDialog() {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.accept = '.safetensors,.gz,application/octet-stream,*';
    input.addEventListener('change', () => importFiles(input.files));
    input.click();
  }

  window.addEventListener('dragover', (e) => { e.preventDefault(); });
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    if (ready && e.dataTransfer && e.dataTransfer.files.length) importFiles(e.dataTransfer.files);
  });

  // ---- the API -----------------------------------------------------------------------------------

  async function trainSteps(n, timeoutMs) {
    const s0 = state();
    const r = command({ cmd: 'train', until: s0.step + n });
    if (!r.ok) return r;
    const t0 = performance.now();
    while (state().training) {
      if (performance.now() - t0 > (timeoutMs || 120000)) { command({ cmd: 'pause' }); throw new Error('training timed out'); }
      await sleep(50);
    }
    return state();
  }

  const api = {
    version: () => M.genlabVersion(),
    state,
    command,
    schema: () => parse(M.genlabSchema()),
    ready: () => window.genlabReady,
    frames,
    trainSteps,
    grid,
    receptiveMask: () => M.genlabReceptiveMask(),
    latentPoints: () => M.genlabLatentPoints(),
    exportModel,
    importModel,
    importFiles,
    openImportDialog,
    downloadModel,
    pngBlob,
    downloadPng,
    curvesCsv: () => M.genlabCurvesCsv(),
    downloadCsv,
    link,
    parseHash,
    copyLink,
    autosave: () => autosave(true),
    clearAutosave: () => idbDelete(),
    notice,
    timings: () => Object.assign({}, timings),
  };

  // ---- start-up ----------------------------------------------------------------------------------

  async function start() {
    M = window.Module;
    mark('runtime ready');
    const linkInfo = parseHash(location.hash);
    linkOptions = { pre: linkInfo.pre, hasPre: linkInfo.hasPre };
    let problem = linkInfo.error;
    let restored = false;

    // 1. Autosave: continue where the tab was, when the link is the one that was saved (or empty).
    let saved = null;
    try { saved = await earlySave; } catch (e) { console.warn('genlab: no autosave (' + e.message + ')'); }
    if (saved && saved.bytes && (linkInfo.empty || saved.hash === location.hash)) {
      const r = parse(M.genlabImportModel(saved.bytes));
      if (r.ok) restored = true;
      else console.warn('genlab: autosave not restored: ' + r.error);
    }

    // 2. Otherwise the link's set-up (defaults for what it does not say).
    if (!restored) {
      let r = problem ? { ok: false, error: problem } : command(Object.assign({ cmd: 'setup' }, linkInfo.setup));
      if (!r.ok) {
        problem = r.error;
        r = parse(M.genlabCommand(JSON.stringify({ cmd: 'new' })));  // defaults (the autosave stays)
      } else {
        linkOptions.applied = true;
      }
    }
    const pretrained = !restored && linkOptions.pre ? prefetchPretrained() : Promise.resolve([]);
    await untilSettled();
    mark('model set up');

    // 3. Pretrained weights for a fresh model (unless the link says pre=0).
    const list = await pretrained;
    if (!restored && state().step === 0) applyPretrained(list);
    mark('pretrained');

    // 4. Instructor options and the open panel.
    if (!problem && !restored) {
      const opts = {};
      if (linkInfo.lock !== null) opts.lock = linkInfo.lock;
      if (linkInfo.hide !== null) opts.hide = linkInfo.hide;
      if (Object.keys(opts).length) {
        const r = command(Object.assign({ cmd: 'ui' }, opts));
        if (!r.ok) problem = r.error;
      }
      if (!problem && (linkInfo.temp !== null || linkInfo.label !== null)) {
        const c = { cmd: 'sample' };
        if (linkInfo.temp !== null) c.temperature = linkInfo.temp;
        if (linkInfo.label !== null) c.label = linkInfo.label;
        const r = command(c);
        if (!r.ok) problem = r.error;
      }
      if (!problem && linkInfo.panel !== null) {
        const r = command({ cmd: 'panel', name: linkInfo.panel });
        if (!r.ok) problem = r.error;
      }
    }
    if (problem) {
      notice('This link could not be used: ' + problem + (restored || linkOptions.applied
        ? '. The rest of it was applied.' : '. Started with the defaults instead.'), true);
    }

    ready = true;
    mark('ready');
    syncHash();
    window.genlab = api;
    setInterval(syncHash, 500);
    setInterval(() => { autosave(false); pumpData(); }, AUTOSAVE_MS);
    document.addEventListener('visibilitychange', () => { if (document.hidden) autosave(false); });
    readyResolve(api);
  }

  function onRuntimeReady() {
    start().catch((e) => {
      console.warn('genlab: start-up failed: ' + (e && e.message));
      if (window.genlabShell) window.genlabShell.fail('genlab could not start: ' + (e && e.message));
    });
  }

  // While the WebAssembly module downloads and compiles: read the autosave and fetch the data set the
  // page will most likely need (the link's, or mnist10k), so the first view appears sooner.
  const earlyData = {};
  const earlyIndex = fetch('assets/pretrained/index.json').then((r) => (r.ok ? r.json() : null)).catch(() => null);
  const earlySave = idbGet();
  earlySave.catch(() => {});
  {
    const h = parseHash(location.hash);
    const name = h.setup.dataset || 'mnist10k';
    if (!h.error && DATA_FILES[name]) {
      earlyData[name] = Promise.all(DATA_FILES[name].map((f) => fetchBytes('assets/data/' + name + '/' + f)));
      earlyData[name].catch(() => {});
    }
  }

  // Run after main() (which creates the playground): Module.postRun.
  const Mod = window.Module = window.Module || {};
  if (!Mod.postRun) Mod.postRun = [];
  else if (typeof Mod.postRun === 'function') Mod.postRun = [Mod.postRun];
  Mod.postRun.push(onRuntimeReady);
})();
