// Programmatic tampering: every leaf of a bundle's JSON, and every line of its checkpoint.
import { flipString } from "../lib/flip.mjs";

export { flipString };

/** Every leaf path of a JSON value (arrays and objects descended into), skipping `skip`. */
export function leafPaths(value, skip = () => false, path = []) {
  if (skip(path)) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => leafPaths(v, skip, [...path, i]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, skip, [...path, k]));
  }
  return [path];
}

const getAt = (obj, path) => path.reduce((o, k) => o[k], obj);

function setAt(obj, path, value) {
  const parent = getAt(obj, path.slice(0, -1));
  parent[path[path.length - 1]] = value;
}

/** A deep copy of `obj` with the leaf at `path` flipped (string: a character; number: +1). */
export function flipLeaf(obj, path) {
  const copy = structuredClone(obj);
  const v = getAt(copy, path);
  if (typeof v === "string") setAt(copy, path, flipString(v));
  else if (typeof v === "number") setAt(copy, path, v + 1);
  else if (typeof v === "boolean") setAt(copy, path, !v);
  else throw new Error(`cannot flip ${JSON.stringify(v)} at ${path.join(".")}`);
  return copy;
}

/** A deep copy with the member at `path` removed (array element or object member). */
export function removeAt(obj, path) {
  const copy = structuredClone(obj);
  const parent = getAt(copy, path.slice(0, -1));
  const key = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(key, 1);
  else delete parent[key];
  return copy;
}

/** A deep copy with object key `path[-1]` renamed (value kept). */
export function renameKey(obj, path) {
  const copy = structuredClone(obj);
  const parent = getAt(copy, path.slice(0, -1));
  const key = path[path.length - 1];
  parent[flipString(key)] = parent[key];
  delete parent[key];
  return copy;
}

/**
 * The lines of a signed note (checkpoint) split into its body lines and signature lines,
 * with a function that rebuilds the note with one line replaced.
 */
export function noteLines(note) {
  const [body, sigs] = note.split("\n\n");
  const bodyLines = body.split("\n");
  const sigLines = sigs.split("\n").filter((l) => l.length > 0);
  const rebuild = (newBody, newSigs) => `${newBody.join("\n")}\n\n${newSigs.join("\n")}\n`;
  return { bodyLines, sigLines, rebuild };
}

/** A signature line (`— name base64`) with a character of its signature flipped. */
export function flipSignatureLine(line) {
  const at = line.lastIndexOf(" ") + 1;
  return line.slice(0, at) + flipString(line.slice(at));
}
