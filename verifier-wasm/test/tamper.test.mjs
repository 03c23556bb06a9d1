// Tampered copies of the producer's v3 bundles: every field (edges, log part, payload, seal),
// flipped in turn, must fail.
// The fields are enumerated from the bundle itself, not hand-picked.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  flipLeaf,
  flipSignatureLine,
  flipString,
  leafPaths,
  noteLines,
  removeAt,
  renameKey,
} from "./mutate.mjs";
import { fixture, verifyBundle, verifyError } from "./load.mjs";

const anchorText = fixture("trust-anchor.json");
const isCheckpoint = (path) => path.join(".") === "log.checkpoint";

/** Asserts that `bundle` (an object) is rejected, naming `what` on failure. */
function assertRejected(bundle, what) {
  let err;
  try {
    verifyBundle(JSON.stringify(bundle), anchorText);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `tampering with ${what} was not detected`);
  assert.equal(err.name, "BundleError", `${what}: ${err}`);
  assert.equal(typeof err.kind, "string");
}

/** Every JSON leaf outside the checkpoint note: each flipped in turn must fail. */
function checkEveryLeaf(bundle, paths) {
  assert.ok(paths.length > 0);
  for (const path of paths) assertRejected(flipLeaf(bundle, path), path.join("."));
  return paths.length;
}

/** Leaf paths of edges and inclusion proofs kept only for the given indices. */
function atIndices(paths, keep) {
  return paths.filter(
    ([top, sub, idx]) =>
      !((top === "edges" || (top === "log" && sub === "inclusion")) &&
        !keep.includes(top === "edges" ? sub : idx)),
  );
}

for (const name of ["bundle-small.json", "bundle-100.json"]) {
  const text = fixture(name);
  const bundle = JSON.parse(text);

  test(`${name}: the untampered bundle verifies`, () => {
    verifyBundle(text, anchorText);
  });

  test(`${name}: every JSON leaf flipped in turn fails`, () => {
    let paths = leafPaths(bundle, isCheckpoint);
    if (bundle.edges.length > 10) {
      // Every field of the first, a middle and the last edge (and their proofs): the same
      // field shapes as all 100, at a tenth of the run time.
      const n = bundle.edges.length;
      paths = atIndices(paths, [0, Math.floor(n / 2), n - 1]);
    }
    const count = checkEveryLeaf(bundle, paths);
    assert.ok(count >= 20, `only ${count} leaves enumerated`);
  });

  test(`${name}: every attribute key renamed, every optional member removed, fails`, () => {
    bundle.edges.forEach((edge, i) => {
      for (const key of Object.keys(edge.attrs ?? {})) {
        assertRejected(renameKey(bundle, ["edges", i, "attrs", key]), `edges.${i}.attrs key ${key}`);
      }
      for (const key of ["content_sha256_hex", "attrs"]) {
        if (key in edge) assertRejected(removeAt(bundle, ["edges", i, key]), `edges.${i}.${key}`);
      }
      if (edge.parents.length > 0) {
        assertRejected(removeAt(bundle, ["edges", i, "parents", 0]), `edges.${i}.parents[0]`);
      }
    });
    for (const key of ["payload", "seal"]) {
      assert.ok(key in bundle, `the fixture carries ${key}`);
      assertRejected(removeAt(bundle, [key]), key);
    }
    assertRejected(removeAt(bundle, ["edges", bundle.edges.length - 1]), "the last edge");
    assertRejected(removeAt(bundle, ["log", "inclusion", 0]), "the first inclusion proof");
  });

  test(`${name}: every checkpoint body line and the log signature flipped fails`, () => {
    const { bodyLines, sigLines, rebuild } = noteLines(bundle.log.checkpoint);
    assert.ok(bodyLines.length >= 3, "origin, size, root");
    bodyLines.forEach((line, i) => {
      const tampered = structuredClone(bundle);
      tampered.log.checkpoint = rebuild(bodyLines.toSpliced(i, 1, flipString(line)), sigLines);
      assertRejected(tampered, `checkpoint body line ${i} (${line})`);
    });
    const origin = bodyLines[0];
    const logLine = sigLines.findIndex((l) => l.startsWith(`— ${origin} `));
    assert.ok(logLine >= 0, "the log's own signature line is present");
    const tampered = structuredClone(bundle);
    tampered.log.checkpoint = rebuild(
      bodyLines,
      sigLines.toSpliced(logLine, 1, flipSignatureLine(sigLines[logLine])),
    );
    assertRejected(tampered, "the log signature line");
  });

  test(`${name}: a flipped cosignature is not counted; two flipped break the 2-of-3 quorum`, () => {
    const { bodyLines, sigLines, rebuild } = noteLines(bundle.log.checkpoint);
    const origin = bodyLines[0];
    const cosigLines = sigLines
      .map((line, i) => ({ line, i }))
      .filter(({ line }) => !line.startsWith(`— ${origin} `));
    assert.equal(cosigLines.length, 3, "three witnesses cosigned (cosign --all)");
    const good = verifyBundle(text, anchorText).cosigners;
    for (const { line, i } of cosigLines) {
      const tampered = structuredClone(bundle);
      tampered.log.checkpoint = rebuild(bodyLines, sigLines.toSpliced(i, 1, flipSignatureLine(line)));
      const report = verifyBundle(JSON.stringify(tampered), anchorText);
      const witness = line.split(" ")[1];
      assert.equal(report.cosigners.length, 2);
      assert.ok(!report.cosigners.some((c) => c.name === witness), `${witness} still counted`);
      assert.ok(good.some((c) => c.name === witness));
    }
    const [a, b] = cosigLines;
    const twice = structuredClone(bundle);
    twice.log.checkpoint = rebuild(
      bodyLines,
      sigLines
        .toSpliced(a.i, 1, flipSignatureLine(a.line))
        .toSpliced(b.i, 1, flipSignatureLine(b.line)),
    );
    const err = verifyError(JSON.stringify(twice), anchorText);
    assert.equal(err.kind, "insufficient_cosignatures");
  });
}
