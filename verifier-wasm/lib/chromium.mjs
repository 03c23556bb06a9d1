// Debian's Chromium driven by playwright-core (no browser download), with every request to a
// non-loopback address aborted and recorded, to show the page needs no network.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Launches headless Chromium (`$CHROMIUM_PATH`, default /usr/bin/chromium). Resolves to
 * `{ page, blocked, consoleErrors, close() }`: `blocked` lists the URLs that were refused,
 * `consoleErrors` the page's console errors and uncaught exceptions.
 */
export async function launchOffline() {
  const profile = mkdtempSync(join(tmpdir(), "nucleus-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const blocked = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if ((url.protocol === "http:" || url.protocol === "https:") && !LOOPBACK.has(url.hostname)) {
      blocked.push(url.href);
      return route.abort("internetdisconnected");
    }
    return route.continue();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));
  return {
    page,
    blocked,
    consoleErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
