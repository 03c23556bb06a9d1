// demo.html in headless Debian Chromium, served from loopback with every other address
// blocked: the good verdict, "corrupt a byte" → rejected, restore → verified again; and the
// verify-in-browser.mjs interface the README demo calls.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { launchOffline } from "../lib/chromium.mjs";
import { flipString } from "../lib/flip.mjs";
import { serve } from "../lib/serve.mjs";

const HERE = fileURLToPath(new URL("..", import.meta.url));
const fixture = (name) => join(HERE, "fixtures", name);
const upstream = (name) => join(HERE, "..", "crates", "envelope", "testdata", "upstream", name);

let server;
let browser;

before(async () => {
  server = await serve(HERE);
  browser = await launchOffline();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const verdictState = (page) => page.locator("#verdict").getAttribute("data-state");

test("demo.html verifies the default 100-edge bundle offline, then rejects a corrupted byte", async () => {
  const { page, blocked, consoleErrors } = browser;
  await page.goto(`${server.origin}/demo.html`);
  await page.waitForSelector("#verdict[data-state=ok]");
  const text = await page.locator("#verdict").textContent();
  assert.match(text, /^VERIFIED: 100 edges of session bundle-100/);
  assert.match(text, /3 trusted cosignatures, quorum satisfied, payload bound/);
  assert.equal(await page.locator("#edges tbody tr").count(), 100);
  assert.equal(await page.locator("#witnesses tbody tr.counted").count(), 3);
  assert.deepEqual(
    await page.locator("#witnesses tbody tr td:first-child").allTextContents(),
    ["w0", "w1", "w2"],
  );

  await page.click("#corrupt");
  await page.waitForSelector("#verdict[data-state=fail]");
  assert.match(await page.locator("#verdict").textContent(), /^REJECTED \(/);
  assert.match(await page.locator("#tamper-note").textContent(), /^Corrupted edges\[\d+\]\./);
  assert.equal(await page.locator("#details").isHidden(), true);

  await page.click("#restore");
  await page.waitForSelector("#verdict[data-state=ok]");

  // The guard is live: a request off loopback is refused and recorded, and it is the only one.
  const reached = await page.evaluate(() =>
    fetch("https://example.com/").then(
      () => true,
      () => false,
    ),
  );
  assert.equal(reached, false);
  assert.deepEqual(blocked, ["https://example.com/"]);
  blocked.length = 0;
  assert.deepEqual(
    consoleErrors.filter((e) => !e.includes("example.com") && !e.includes("ERR_INTERNET_DISCONNECTED")),
    [],
  );
});

test("the file pickers replace the defaults (the trust anchor from a different file)", async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/demo.html`);
  await page.waitForSelector("#verdict[data-state=ok]");
  await page.setInputFiles("#bundle-file", upstream("bundle.json"));
  await page.waitForSelector("#verdict[data-state=fail]");
  await page.setInputFiles("#anchor-file", upstream("trust-anchor.json"));
  await page.waitForSelector("#verdict[data-state=ok]");
  assert.match(await page.locator("#verdict").textContent(), /^VERIFIED: 3 edges .*format v1/);
  assert.equal(await verdictState(page), "ok");
});

test("the witness table marks a witness whose cosignature does not verify as not counted", async () => {
  const { page } = browser;
  const bundle = JSON.parse(readFileSync(fixture("bundle-small.json"), "utf8"));
  const [body, sigs] = bundle.log.checkpoint.split("\n\n");
  const lines = sigs.split("\n");
  const w1 = lines.findIndex((l) => l.startsWith("— witness.example/w1 "));
  assert.ok(w1 >= 0, "w1 cosigned the fixture");
  const at = lines[w1].lastIndexOf(" ") + 1;
  lines[w1] = lines[w1].slice(0, at) + flipString(lines[w1].slice(at));
  bundle.log.checkpoint = `${body}\n\n${lines.join("\n")}`;
  const dir = mkdtempSync(join(tmpdir(), "demo-cosig-"));
  try {
    const file = join(dir, "one-bad-cosignature.json");
    writeFileSync(file, JSON.stringify(bundle));
    await page.goto(`${server.origin}/demo.html`);
    await page.waitForSelector("#verdict[data-state=ok]");
    await page.setInputFiles("#bundle-file", file);
    await page.waitForFunction(() => document.getElementById("bundle-name").textContent === "one-bad-cosignature.json");
    assert.equal(await verdictState(page), "ok");
    assert.match(await page.locator("#verdict").textContent(), /2 trusted cosignatures, quorum satisfied/);
    assert.deepEqual(await page.locator("#witnesses tbody tr.not-counted td:first-child").allTextContents(), ["w1"]);
    assert.equal(await page.locator("#witnesses tbody tr.counted").count(), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs scripts/verify-in-browser.mjs; returns { status, stdout }. */
function verifyInBrowser(bundle, anchor) {
  const r = spawnSync(process.execPath, [join(HERE, "scripts", "verify-in-browser.mjs"), bundle, anchor], {
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

test("verify-in-browser.mjs: exit 0 and the verdict for a good bundle, 1 for a tampered one", () => {
  const good = verifyInBrowser(fixture("bundle-small.json"), fixture("trust-anchor.json"));
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /^VERIFIED: 2 edges of session bundle-small/);

  const dir = mkdtempSync(join(tmpdir(), "verify-in-browser-"));
  try {
    const bundle = JSON.parse(readFileSync(fixture("bundle-small.json"), "utf8"));
    bundle.edges[1].kind = flipString(bundle.edges[1].kind);
    const tampered = join(dir, "tampered.json");
    writeFileSync(tampered, JSON.stringify(bundle));
    const bad = verifyInBrowser(tampered, fixture("trust-anchor.json"));
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stdout, /^REJECTED \(bad_seal\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const usage = verifyInBrowser(fixture("bundle-small.json"), join(HERE, "no-such-anchor.json"));
  assert.equal(usage.status, 2);
});
