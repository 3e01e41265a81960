// Payload bytes carried inside a JSON string literal. On a JSON connection that negotiated delta compression,
// Centrifugo sends every publication's data this way (the full JSON text, or the fossil delta, as a string), so
// the client can apply deltas to the exact bytes. Escaping follows Go's HTML-safe encoder (`<`, `>`, `&`,
// U+2028 and U+2029 as \u escapes); any correct JSON escaping decodes to the same string on the client.
// Runtime-agnostic: TextEncoder/TextDecoder only.

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const HTML_UNSAFE = /[<>&\u2028\u2029]/g;

function unicodeEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * `bytes` as the UTF-8 of a JSON string literal whose value is those bytes decoded as UTF-8, or undefined when
 * they are not valid UTF-8 (the client re-encodes the string, so invalid bytes could not survive the trip).
 */
export function jsonStringOf(bytes: Uint8Array): Uint8Array | undefined {
  let s: string;
  try {
    s = strict.decode(bytes);
  } catch {
    return undefined;
  }
  return encoder.encode(JSON.stringify(s).replace(HTML_UNSAFE, unicodeEscape));
}
