#!/usr/bin/env node
// Benchmark: verifyBundle on the producer's 100-edge, 3-cosignature bundle (fixtures/), in
// Node and in headless Debian Chromium (median and p90 per call over N samples after a warm-up), and the
// .wasm size raw and gzipped. Prints figures; asserts nothing about speed.
//
// Usage: node verifier-wasm/bench.mjs [--runs N]   (N samples of 10 calls each, default 50;
// needs pkg/ from build.sh and node_modules from scripts/node-deps.sh)
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, gzipSync } from "node:zlib";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 50;
const BATCH = 10;
const WARMUP = 20;
const BUNDLE = "fixtures/bundle-100.json";
const ANCHOR = "fixtures/trust-anchor.json";
const WASM = "pkg/nucleus_verifier_wasm_bg.wasm";

/** Median and p90 of a list of milliseconds. */
function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), min: s[0], samples: s.length };
}

const fmt = ({ median, p90, min, samples }) =>
  `median ${median.toFixed(3)} ms, p90 ${p90.toFixed(3)} ms, min ${min.toFixed(3)} ms per call ` +
  `(${samples} samples × ${BATCH} calls)`;

// The same measurement loop runs in Node and (serialized) in the page.
async function measure({ moduleUrl, wasm, bundle, anchor, runs, warmup, batch }) {
  const mod = await import(moduleUrl);
  await mod.default({ module_or_path: wasm });
  const report = mod.verifyBundle(bundle, anchor);
  for (let i = 0; i < warmup; i++) mod.verifyBundle(bundle, anchor);
  // Each sample times a batch: browsers coarsen performance.now() (100 µs in Chromium
  // without cross-origin isolation), which is too coarse for single calls.
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    for (let j = 0; j < batch; j++) mod.verifyBundle(bundle, anchor);
    times.push((performance.now() - t0) / batch);
  }
  return { times, edges: report.edge_count, cosigners: report.cosigners.length };
}

const bundle = readFileSync(new URL(BUNDLE, import.meta.url), "utf8");
const anchor = readFileSync(new URL(ANCHOR, import.meta.url), "utf8");
const wasmBytes = readFileSync(new URL(WASM, import.meta.url));

console.log(`bundle: ${BUNDLE}, ${Buffer.byteLength(bundle)} bytes`);
console.log(
  `wasm: ${WASM} ${statSync(new URL(WASM, import.meta.url)).size} bytes raw, ` +
    `${gzipSync(wasmBytes, { level: 9 }).length} bytes gzip -9, ` +
    `${brotliCompressSync(wasmBytes).length} bytes brotli`,
);

const node = await measure({
  moduleUrl: new URL("pkg/nucleus_verifier_wasm.js", import.meta.url).href,
  wasm: wasmBytes,
  bundle,
  anchor,
  runs: RUNS,
  warmup: WARMUP,
  batch: BATCH,
});
console.log(`node ${process.version}: verifyBundle ${node.edges} edges, ${node.cosigners} cosigners: ${fmt(stats(node.times))}`);

const { serve } = await import("./lib/serve.mjs");
const { launchOffline } = await import("./lib/chromium.mjs");
const server = await serve(HERE);
const browser = await launchOffline();
try {
  const { page } = browser;
  await page.goto(`${server.origin}/demo.html`);
  await page.waitForSelector("body[data-ready=true]");
  const version = await page.evaluate(() => navigator.userAgent.match(/Chrom(e|ium)\/[\d.]+/)?.[0]);
  const result = await page.evaluate(
    async ({ src, args }) => {
      const fn = new Function(`return (${src})`)();
      const [bundle, anchor] = await Promise.all(args.urls.map((u) => fetch(u).then((r) => r.text())));
      return fn({ ...args, bundle, anchor, wasm: undefined });
    },
    {
      src: measure.toString(),
      args: {
        moduleUrl: `${server.origin}/pkg/nucleus_verifier_wasm.js`,
        urls: [`${server.origin}/${BUNDLE}`, `${server.origin}/${ANCHOR}`],
        runs: RUNS,
        warmup: WARMUP,
        batch: BATCH,
      },
    },
  );
  console.log(`chromium ${version}: verifyBundle ${result.edges} edges, ${result.cosigners} cosigners: ${fmt(stats(result.times))}`);
} finally {
  await browser.close();
  await server.close();
}
console.log("native: cargo bench -p nucleus-envelope --bench verify -- verify_v3_100_edges_3_cosigs");
