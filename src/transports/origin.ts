// Origin check for connection endpoints (docs/protocol.md §7): glob patterns with `*`, matched on the lower-cased
// Origin header. Empty pattern list ⇒ only requests without an Origin header pass.

export type OriginCheck = (origin: string | undefined) => boolean;

function globToRegExp(pattern: string): RegExp {
  let src = '^';
  for (const ch of pattern.toLowerCase()) {
    if (ch === '*') src += '.*';
    else src += ch.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`${src}$`);
}

export function createOriginCheck(allowedOrigins: readonly string[]): OriginCheck {
  if (allowedOrigins.length === 0) return (origin) => origin === undefined || origin === '';
  if (allowedOrigins.includes('*')) return () => true;
  const patterns = allowedOrigins.map(globToRegExp);
  return (origin) => {
    if (origin === undefined || origin === '') return true;
    const o = origin.toLowerCase();
    for (let i = 0; i < patterns.length; i++) {
      if ((patterns[i] as RegExp).test(o)) return true;
    }
    return false;
  };
}
