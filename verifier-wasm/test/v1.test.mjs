// The original implementation's two demo fixtures give the verdicts their README states.
import assert from "node:assert/strict";
import { test } from "node:test";

import { flipString } from "./mutate.mjs";
import { upstream, verifyBundle, verifyError } from "./load.mjs";

const basic = upstream("bundle.basic.json");
const basicAnchor = upstream("trust-anchor.basic.json");
const anchored = upstream("bundle.json");
const anchoredAnchor = upstream("trust-anchor.json");

test("v1 basic bundle passes: 3 edges pod_admit → tool_call → artifact_produced, no log", () => {
  const report = verifyBundle(basic, basicAnchor);
  assert.equal(report.format, "v1");
  assert.equal(report.edge_count, 3);
  assert.deepEqual(
    report.edges.map((e) => e.kind),
    ["pod_admit", "tool_call", "artifact_produced"],
  );
  assert.equal(report.log, undefined);
  assert.deepEqual(report.cosigners, []);
});

test("v1 basic bundle with the first base64 character of edges[0].proof.sig flipped fails", () => {
  const bundle = JSON.parse(basic);
  bundle.envelope.edges[0].proof.sig = flipString(bundle.envelope.edges[0].proof.sig, 0);
  const err = verifyError(JSON.stringify(bundle), basicAnchor);
  assert.equal(err.name, "BundleError");
  assert.equal(err.kind, "bad_signature");
  assert.match(err.message, /^bad_signature: edge 0:/);
});

test("v1 Merkle-anchored bundle passes with its log-signed tree head and zero cosignatures", () => {
  const report = verifyBundle(anchored, anchoredAnchor);
  assert.equal(report.format, "v1");
  assert.equal(report.edge_count, 3);
  assert.ok(report.log, "the tree head is reported");
  assert.equal(report.log.leaf_indices.length, 3);
  assert.deepEqual(report.cosigners, []);
});

test("v1 Merkle-anchored bundle with sth.witness_sig flipped fails", () => {
  const bundle = JSON.parse(anchored);
  const { sth } = bundle.envelope.merkle_anchor;
  sth.witness_sig = flipString(sth.witness_sig);
  const err = verifyError(JSON.stringify(bundle), anchoredAnchor);
  assert.equal(err.kind, "bad_checkpoint");
});

test("v1 Merkle-anchored bundle fails when the anchor drops trust_witness_pubkey_hex", () => {
  const anchor = JSON.parse(anchoredAnchor);
  assert.ok(anchor.trust_witness_pubkey_hex);
  delete anchor.trust_witness_pubkey_hex;
  const err = verifyError(anchored, JSON.stringify(anchor));
  assert.equal(err.kind, "missing_log_key");
});

test("v1 Merkle-anchored bundle with an edge signature flipped fails", () => {
  const bundle = JSON.parse(anchored);
  bundle.envelope.edges[1].proof.sig = flipString(bundle.envelope.edges[1].proof.sig);
  const err = verifyError(JSON.stringify(bundle), anchoredAnchor);
  assert.equal(err.kind, "bad_signature");
});
