// The ConnectRequest a unidirectional client sends (docs/transports.md): a JSON object (not a Command), or `null`
// for an empty one. The session is fed the equivalent connect command, re-serialised on one line so that the
// newline-delimited decoder sees exactly one command.
const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** The connect command frame for a ConnectRequest text, or undefined when it is not a JSON object or null. */
export function uniConnectFrame(text: string): Uint8Array | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null) v = {};
  if (typeof v !== 'object' || Array.isArray(v)) return undefined;
  return encoder.encode(`{"id":1,"connect":${JSON.stringify(v)}}`);
}

/** The same for raw bytes (a request body); invalid UTF-8 is refused. */
export function uniConnectFrameFromBytes(bytes: Uint8Array): Uint8Array | undefined {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  return uniConnectFrame(text);
}
