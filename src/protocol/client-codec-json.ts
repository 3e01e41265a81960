// Client-side JSON codec for the load tester and the browser add-on: commands are plain objects,
// replies come back as parsed JSON. Runtime-agnostic (TextEncoder/TextDecoder only).
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One frame of newline-joined JSON commands (no trailing newline). */
export function encodeCommands(cmds: readonly object[]): Uint8Array {
  let text = '';
  for (let i = 0; i < cmds.length; i++) text += (i > 0 ? '\n' : '') + JSON.stringify(cmds[i]);
  return encoder.encode(text);
}

/** Parse every non-blank line of a reply frame. Throws (SyntaxError) on malformed JSON. */
export function decodeReplies(frame: Uint8Array | string): unknown[] {
  const text = typeof frame === 'string' ? frame : decoder.decode(frame);
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() !== '') out.push(JSON.parse(line));
  }
  return out;
}
