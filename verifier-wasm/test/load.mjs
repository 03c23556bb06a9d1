// Loads the built package (pkg/, from build.sh) into Node and reads the fixtures.
import { readFileSync } from "node:fs";

import init, { verifyBundle } from "../pkg/nucleus_verifier_wasm.js";

const root = new URL("../", import.meta.url);

/** Text of a file under verifier-wasm/. */
export const readText = (rel) => readFileSync(new URL(rel, root), "utf8");

// Node's fetch cannot read file: URLs, so the module bytes are handed to init().
await init({ module_or_path: readFileSync(new URL("pkg/nucleus_verifier_wasm_bg.wasm", root)) });

export { verifyBundle };

/** The upstream v1 fixtures (crates/envelope/testdata/upstream). */
export const upstream = (name) => readText(`../crates/envelope/testdata/upstream/${name}`);

/** The v3 fixtures made by scripts/make-fixtures.sh. */
export const fixture = (name) => readText(`fixtures/${name}`);

/** Runs verifyBundle and returns the thrown error (fails the test when it does not throw). */
export function verifyError(bundleText, anchorText) {
  try {
    verifyBundle(bundleText, anchorText);
  } catch (err) {
    return err;
  }
  throw new Error("verifyBundle accepted input that must be rejected");
}
