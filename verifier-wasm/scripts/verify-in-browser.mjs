#!/usr/bin/env node
// Usage: node verifier-wasm/scripts/verify-in-browser.mjs <bundle.json> <trust-anchor.json>
//
// Verifies the two files in demo.html, in headless Debian Chromium, through the page's own
// file pickers, with every non-loopback request blocked. Prints the page's verdict line.
// Exit status: 0 verified, 1 rejected, 2 usage or setup error.
// Builds pkg/ (build.sh) and installs playwright-core (scripts/node-deps.sh) when missing.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL("..", import.meta.url));

function fail(msg) {
  console.error(`verify-in-browser: ${msg}`);
  process.exit(2);
}

function ensure(path, script) {
  if (existsSync(resolve(HERE, path))) return;
  const r = spawnSync("bash", [resolve(HERE, script)], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) fail(`${script} failed`);
}

const [bundlePath, anchorPath] = process.argv.slice(2);
if (!bundlePath || !anchorPath || process.argv.length !== 4) {
  fail("usage: verify-in-browser.mjs <bundle.json> <trust-anchor.json>");
}
for (const p of [bundlePath, anchorPath]) if (!existsSync(p)) fail(`no such file: ${p}`);

ensure("pkg/nucleus_verifier_wasm_bg.wasm", "build.sh");
ensure("node_modules/playwright-core", "scripts/node-deps.sh");
const { serve } = await import("../lib/serve.mjs");
const { launchOffline } = await import("../lib/chromium.mjs");

const server = await serve(HERE);
const browser = await launchOffline();
let code = 2;
try {
  const { page } = browser;
  await page.goto(`${server.origin}/demo.html`);
  await page.waitForSelector("body[data-ready=true]");
  await page.setInputFiles("#anchor-file", resolve(anchorPath));
  await page.setInputFiles("#bundle-file", resolve(bundlePath));
  const names = [basename(bundlePath), basename(anchorPath)];
  // Both names shown means the last verification used both files (the page sets the name
  // and verifies in one task).
  await page.waitForFunction(
    ([b, a]) =>
      document.getElementById("bundle-name").textContent === b &&
      document.getElementById("anchor-name").textContent === a &&
      ["ok", "fail"].includes(document.getElementById("verdict").dataset.state),
    names,
  );
  const verdict = page.locator("#verdict");
  const state = await verdict.getAttribute("data-state");
  console.log((await verdict.textContent()).trim());
  code = state === "ok" ? 0 : 1;
  if (browser.blocked.length > 0) {
    console.error(`verify-in-browser: the page tried to reach the network: ${browser.blocked.join(", ")}`);
    code = 2;
  }
} finally {
  await browser.close();
  await server.close();
}
process.exit(code);
