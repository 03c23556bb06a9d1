// The generated npm package: its name, its entry points, and a typed (not `any`) API.
import assert from "node:assert/strict";
import { test } from "node:test";

import { readText } from "./load.mjs";

test("package.json names the guide's package and points at the ES module and its types", () => {
  const pkg = JSON.parse(readText("pkg/package.json"));
  assert.equal(pkg.name, "@coproduct/nucleus-verifier-wasm");
  assert.equal(pkg.type, "module");
  assert.equal(pkg.main, "nucleus_verifier_wasm.js");
  assert.equal(pkg.types, "nucleus_verifier_wasm.d.ts");
  for (const f of pkg.files) readText(`pkg/${f}`);
});

test("the .d.ts types verifyBundle's report and the thrown error, with no `any`", () => {
  const dts = readText("pkg/nucleus_verifier_wasm.d.ts");
  assert.match(
    dts,
    /export function verifyBundle\(bundleText: string, trustAnchorText: string\): VerificationReport;/,
  );
  for (const name of ["VerificationReport", "ReportedEdge", "ReportedLog", "ReportedCosigner", "BundleVerificationError"]) {
    assert.match(dts, new RegExp(`export interface ${name} `));
  }
  assert.match(dts, /export default function __wbg_init/);
  const api = dts.slice(0, dts.indexOf("export type InitInput"));
  assert.doesNotMatch(api, /:\s*any\b/);
});
