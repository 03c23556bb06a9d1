// One-character tampering shared by the tests (Node) and the demo's "corrupt a byte" button.

/**
 * The character that replaces `c`: stays in its class where it can (digit → digit, hex letter
 * → hex letter, letter → letter), so a flipped hash stays hex and a flipped signature stays
 * base64, and what fails is the check itself, not a parse.
 */
export function flipChar(c) {
  if (c >= "0" && c <= "9") return String.fromCharCode(48 + ((c.charCodeAt(0) - 47) % 10));
  if (c >= "a" && c <= "f") return c === "f" ? "a" : String.fromCharCode(c.charCodeAt(0) + 1);
  if (c >= "A" && c <= "F") return c === "F" ? "A" : String.fromCharCode(c.charCodeAt(0) + 1);
  if (/[g-z]/.test(c)) return c === "z" ? "g" : String.fromCharCode(c.charCodeAt(0) + 1);
  if (/[G-Z]/.test(c)) return c === "Z" ? "G" : String.fromCharCode(c.charCodeAt(0) + 1);
  return c === "x" ? "y" : "x";
}

/** `s` with the character at `i` (default: the middle one) flipped. */
export function flipString(s, i = Math.floor(s.length / 2)) {
  if (s.length === 0) return "x";
  return s.slice(0, i) + flipChar(s[i]) + s.slice(i + 1);
}
