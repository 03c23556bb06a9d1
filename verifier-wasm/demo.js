// The demo page: verifies a bundle against a trust anchor with the WASM verifier, entirely
// in the page, and lets the user corrupt a signed field to watch verification fail.
import init, { verifyBundle } from "./pkg/nucleus_verifier_wasm.js";
import { flipString } from "./lib/flip.mjs";

const DEFAULT_BUNDLE = "fixtures/bundle-100.json";
const DEFAULT_ANCHOR = "fixtures/trust-anchor.json";

const $ = (id) => document.getElementById(id);
const state = { bundle: null, anchor: null, original: null };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function row(cells, cls) {
  const tr = el("tr", undefined, cls);
  for (const c of cells) {
    const td = el("td", c.text ?? c);
    if (c.cls) td.className = c.cls;
    tr.append(td);
  }
  return tr;
}

/** The witnesses the anchor trusts: policy `witness` lines, then trusted_witnesses_hex. */
function trustedWitnesses(anchorText) {
  let anchor;
  try {
    anchor = JSON.parse(anchorText);
  } catch {
    return { witnesses: [], quorum: [] };
  }
  const witnesses = [];
  const quorum = [];
  for (const line of (anchor.policy ?? "").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === "witness" && f.length >= 3) witnesses.push({ name: f[1], key: f[2] });
    if (f[0] === "group" || f[0] === "quorum") quorum.push(line.trim());
  }
  for (const key of anchor.trusted_witnesses_hex ?? []) {
    if (!witnesses.some((w) => w.key === key)) witnesses.push({ name: "(trusted_witnesses_hex)", key });
  }
  return { witnesses, quorum, threshold: anchor.cosignature_threshold ?? 0 };
}

function showReport(report, ms) {
  const verdict = $("verdict");
  verdict.dataset.state = "ok";
  const quorum = report.quorum_satisfied === undefined ? "no policy" : "quorum satisfied";
  verdict.textContent =
    `VERIFIED: ${report.edge_count} edges of session ${report.session} (format ${report.format}), ` +
    `${report.cosigners.length} trusted cosignatures, ${quorum}, ` +
    `payload ${report.payload_bound ? "bound" : "not bound"} — ${ms.toFixed(2)} ms in this page`;

  const log = $("log");
  log.replaceChildren();
  const entries = report.log
    ? [
        ["origin", report.log.origin ?? "–"],
        ["tree size", String(report.log.size)],
        ["root hash", report.log.root_hex],
        ["head edge hash", report.head_hash_hex],
        ["issuer kids", report.kids.join(", ")],
        ["payload sha256", report.payload_sha256_hex ?? "–"],
      ]
    : [["log", "not anchored in a log"], ["head edge hash", report.head_hash_hex]];
  for (const [k, v] of entries) log.append(el("dt", k), el("dd", v));

  const { witnesses, quorum: rules, threshold } = trustedWitnesses(state.anchor);
  $("quorum").textContent =
    `Policy: ${rules.length ? rules.join("; ") : "none"} · cosignature_threshold: ${threshold}`;
  const tbody = $("witnesses").tBodies[0];
  tbody.replaceChildren();
  const listed = new Set();
  for (const w of witnesses) {
    const c = report.cosigners.find((c) => c.key_hex === w.key || (c.policy_name && c.policy_name === w.name));
    if (c) listed.add(c.key_hex);
    tbody.append(
      row(
        [w.name, { text: w.key, cls: "key" }, c ? "yes" : "no", c?.timestamp ? new Date(c.timestamp * 1000).toISOString() : "–"],
        c ? "counted" : "not-counted",
      ),
    );
  }
  for (const c of report.cosigners.filter((c) => !listed.has(c.key_hex))) {
    tbody.append(row([c.policy_name ?? c.name ?? "–", { text: c.key_hex, cls: "key" }, "yes", "–"], "counted"));
  }

  $("edge-count").textContent = String(report.edge_count);
  const edges = $("edges").tBodies[0];
  edges.replaceChildren();
  for (const e of report.edges) {
    const attrs = Object.entries(e.attrs ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
    edges.append(row([String(e.index), e.kind, e.child, e.parents.join(", ") || "–", e.ts, attrs || "–", e.kid]));
  }
  $("details").hidden = false;
}

function showError(err) {
  const verdict = $("verdict");
  verdict.dataset.state = "fail";
  verdict.dataset.kind = err.kind ?? "error";
  // The message starts with the kind already; show it once.
  const message = err.kind && err.message.startsWith(`${err.kind}: `) ? err.message.slice(err.kind.length + 2) : err.message;
  verdict.textContent = `REJECTED (${err.kind ?? err.name}): ${message}`;
  $("details").hidden = true;
}

function verify() {
  delete $("verdict").dataset.kind;
  if (state.bundle === null || state.anchor === null) return;
  const t0 = performance.now();
  try {
    const report = verifyBundle(state.bundle, state.anchor);
    showReport(report, performance.now() - t0);
  } catch (err) {
    showError(err);
  }
}

const randomIndex = (n) => crypto.getRandomValues(new Uint32Array(1))[0] % n;

/** Flips one character of a randomly chosen signed field; returns the field's path. */
function corruptSignedField(bundle) {
  const v3 = bundle.format === "nucleus-bundle/v3";
  const edges = v3 ? bundle.edges : bundle.envelope?.edges;
  if (!Array.isArray(edges) || edges.length === 0) throw new Error("the bundle has no edges to corrupt");
  const i = randomIndex(edges.length);
  const edge = edges[i];
  const fields = ["child", "kind", "ts", "content_sha256_hex"].filter((f) => typeof edge[f] === "string");
  const targets = fields.map((f) => [edge, f, `edges[${i}].${f}`]);
  // v1 leaves attrs unsigned (the report omits them); v3 chains them into the sealed head.
  if (v3) for (const k of Object.keys(edge.attrs ?? {})) targets.push([edge.attrs, k, `edges[${i}].attrs.${k}`]);
  const [obj, key, path] = targets[randomIndex(targets.length)];
  const before = obj[key];
  obj[key] = flipString(before);
  return { path, before, after: obj[key] };
}

function corrupt() {
  const bundle = JSON.parse(state.bundle);
  const { path, before, after } = corruptSignedField(bundle);
  state.bundle = JSON.stringify(bundle, null, 2);
  const note = $("tamper-note");
  note.hidden = false;
  note.textContent = `Corrupted ${path}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`;
  $("restore").disabled = false;
  verify();
}

function restore() {
  state.bundle = state.original;
  $("tamper-note").hidden = true;
  $("restore").disabled = true;
  verify();
}

async function fromFile(input, which) {
  const file = input.files?.[0];
  if (!file) return;
  const text = await file.text();
  if (which === "bundle") {
    state.bundle = state.original = text;
    $("bundle-name").textContent = file.name;
    $("tamper-note").hidden = true;
    $("restore").disabled = true;
  } else {
    state.anchor = text;
    $("anchor-name").textContent = file.name;
  }
  verify();
}

async function loadDefaults() {
  const [bundle, anchor] = await Promise.all(
    [DEFAULT_BUNDLE, DEFAULT_ANCHOR].map(async (url) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      return res.text();
    }),
  );
  // A file picked while the defaults were loading wins.
  if (state.bundle === null) {
    state.bundle = state.original = bundle;
    $("bundle-name").textContent = `${DEFAULT_BUNDLE} (default)`;
  }
  if (state.anchor === null) {
    state.anchor = anchor;
    $("anchor-name").textContent = `${DEFAULT_ANCHOR} (default)`;
  }
}

$("bundle-file").addEventListener("change", (e) => fromFile(e.target, "bundle"));
$("anchor-file").addEventListener("change", (e) => fromFile(e.target, "anchor"));
$("verify").addEventListener("click", verify);
$("corrupt").addEventListener("click", corrupt);
$("restore").addEventListener("click", restore);

try {
  await init();
  $("verdict").dataset.state = "pending";
  $("verdict").textContent = "Verifier loaded; loading the bundle…";
  try {
    await loadDefaults();
  } catch (err) {
    $("verdict").textContent = `Pick a bundle and a trust anchor (defaults unavailable: ${err.message})`;
  }
  for (const id of ["verify", "corrupt"]) $(id).disabled = false;
  verify();
} catch (err) {
  showError(err);
}
document.body.dataset.ready = "true";
