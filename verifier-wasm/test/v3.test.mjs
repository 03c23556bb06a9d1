// v3 bundles made by the real producer (scripts/make-fixtures.sh: three nucleus-witness
// processes, a 2-of-3 policy, cosign --all), checked against good and wrong trust anchors.
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync } from "node:crypto";
import { test } from "node:test";

import { fixture, verifyBundle, verifyError } from "./load.mjs";

const big = fixture("bundle-100.json");
const small = fixture("bundle-small.json");
const anchorText = fixture("trust-anchor.json");
const anchor = JSON.parse(anchorText);
const sha256Hex = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** A fresh Ed25519 public key as a JWK `x` (base64url) and as hex. */
function freshKey() {
  const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  return { x: jwk.x, hex: Buffer.from(jwk.x, "base64url").toString("hex") };
}

/** The anchor with `edit` applied to a deep copy, as JSON text. */
function anchorWith(edit) {
  const copy = structuredClone(anchor);
  edit(copy);
  return JSON.stringify(copy);
}

test("the 100-edge bundle verifies: every edge, the log, all three cosigners, the payload", () => {
  const bundle = JSON.parse(big);
  const report = verifyBundle(big, anchorText);
  assert.equal(report.format, "v3");
  assert.equal(report.session, "bundle-100");
  assert.equal(report.edge_count, 100);
  assert.equal(report.edges.length, 100);
  report.edges.forEach((edge, i) => {
    assert.equal(edge.index, i);
    assert.equal(edge.attrs.step, String(i));
    assert.equal(edge.content_hash_hex, sha256Hex(`bundle-100 step ${i}`));
    assert.deepEqual(edge.parents, i === 0 ? [] : [report.edges[i - 1].child]);
  });
  assert.equal(report.head_hash_hex, report.edges[99].edge_hash_hex);
  assert.equal(report.log.origin, anchor.origin);
  assert.equal(report.log.size, 102, "both sessions' edges are in the cosigned tree");
  assert.deepEqual(report.log.leaf_indices, bundle.log.inclusion.map((i) => i.leaf_index));
  assert.deepEqual(report.cosigners.map((c) => c.policy_name).sort(), ["w0", "w1", "w2"]);
  assert.equal(report.cosignature_threshold, 2);
  assert.equal(report.quorum_satisfied, true);
  assert.equal(report.payload_bound, true);
  assert.equal(report.payload_sha256_hex, sha256Hex(Buffer.from(bundle.payload.data_b64, "base64")));
});

test("the 2-edge bundle from the same log verifies", () => {
  const report = verifyBundle(small, anchorText);
  assert.equal(report.session, "bundle-small");
  assert.equal(report.edge_count, 2);
  assert.equal(report.cosigners.length, 3);
  assert.equal(report.quorum_satisfied, true);
});

test("errors are Error objects named BundleError with the kind as property and message prefix", () => {
  const err = verifyError("{not json", anchorText);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "BundleError");
  assert.equal(err.kind, "malformed_bundle");
  assert.ok(err.message.startsWith("malformed_bundle: "), err.message);
});

test("an unknown bundle member is refused", () => {
  const bundle = JSON.parse(small);
  bundle.note = "unsigned";
  assert.equal(verifyError(JSON.stringify(bundle), anchorText).kind, "malformed_bundle");
});

test("wrong trust anchor: the issuer key replaced under the same kid breaks the seal", () => {
  const text = anchorWith((a) => {
    a.trust_jwks.keys[0].x = freshKey().x;
  });
  assert.equal(verifyError(small, text).kind, "bad_seal");
});

test("the seal covers the payload: a payload removed or swapped between bundles fails", () => {
  const lax = anchorWith((a) => {
    a.require_payload_binding = false;
  });
  const bundle = JSON.parse(small);
  const other = JSON.parse(big);
  delete bundle.payload;
  assert.equal(verifyError(JSON.stringify(bundle), lax).kind, "bad_seal");
  bundle.payload = other.payload;
  assert.equal(verifyError(JSON.stringify(bundle), lax).kind, "bad_seal");
});

test("a seal moved to another bundle of the same issuer and log fails", () => {
  const bundle = JSON.parse(small);
  bundle.seal = JSON.parse(big).seal;
  assert.equal(verifyError(JSON.stringify(bundle), anchorText).kind, "bad_seal");
});

test("a trust anchor that requires a payload refuses a bundle without one", () => {
  const strict = anchorWith((a) => {
    a.require_payload_binding = true;
  });
  const bundle = JSON.parse(small);
  delete bundle.payload;
  assert.equal(verifyError(JSON.stringify(bundle), strict).kind, "missing_payload_binding");
});

test("wrong trust anchor: an issuer key with another kid", () => {
  const text = anchorWith((a) => {
    a.trust_jwks.keys[0].kid = "someone-else";
  });
  const err = verifyError(small, text);
  assert.equal(err.kind, "unknown_kid");
  // The message names the kid (the size flags in .cargo/config.toml keep `{:?}` output).
  const kid = JSON.parse(small).edges[0].kid;
  assert.ok(err.message.includes(`kid "${kid}" is not in the trust anchor's trust_jwks`), err.message);
});

test("wrong trust anchor: another log key (pinned and in the policy)", () => {
  const other = freshKey().hex;
  const text = anchorWith((a) => {
    a.policy = a.policy.replace(/^log [0-9a-f]{64}/m, `log ${other}`);
    a.trust_witness_pubkey_hex = other;
  });
  assert.equal(verifyError(small, text).kind, "bad_checkpoint");
});

test("wrong trust anchor: another origin", () => {
  const text = anchorWith((a) => {
    a.origin = "example.com/some/other-log";
  });
  assert.equal(verifyError(small, text).kind, "origin_mismatch");
});

test("wrong trust anchor: witnesses we do not trust cannot satisfy the quorum", () => {
  const text = anchorWith((a) => {
    a.policy = a.policy.replace(
      /^(witness \S+ )[0-9a-f]{64}/gm,
      (_, prefix) => `${prefix}${freshKey().hex}`,
    );
  });
  const err = verifyError(small, text);
  assert.equal(err.kind, "insufficient_cosignatures");
  assert.match(err.message, /0 distinct trusted cosignatures verified, 2 required/);
});

test("wrong trust anchor: untrusted witnesses fail the policy's quorum even with no threshold", () => {
  const text = anchorWith((a) => {
    a.cosignature_threshold = 0;
    a.policy = a.policy.replace(
      /^(witness \S+ )[0-9a-f]{64}/gm,
      (_, prefix) => `${prefix}${freshKey().hex}`,
    );
  });
  assert.equal(verifyError(small, text).kind, "quorum_not_satisfied");
});

test("an unknown trust anchor member is refused", () => {
  const text = anchorWith((a) => {
    a.trusted_witness_hex = [];
  });
  const err = verifyError(small, text);
  assert.equal(err.kind, "invalid_trust_anchor");
  assert.match(err.message, /trusted_witness_hex/);
});

test("a trust anchor without trust_jwks is refused (no self-check mode)", () => {
  const text = anchorWith((a) => {
    delete a.trust_jwks;
  });
  assert.equal(verifyError(small, text).kind, "invalid_trust_anchor");
});

test("a threshold no trusted witness set can meet is refused up front", () => {
  const text = anchorWith((a) => {
    a.cosignature_threshold = 4;
  });
  assert.equal(verifyError(small, text).kind, "invalid_trust_anchor");
});
