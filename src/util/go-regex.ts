// Regular expressions from the config are written for Go's RE2 (Centrifugo's issuer_regex, audience_regex,
// channel_regex). Go spells a named group `(?P<name>…)` as well as `(?<name>…)`; JavaScript knows only the
// second, so the first is rewritten before compiling. Everything else is passed on as written.

/** `(?P<name>` ⇒ `(?<name>` outside escapes and character classes. */
export function fromGoSyntax(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      out += source.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(' && source.startsWith('?P<', i + 1)) {
      out += '(?<';
      i += 3;
      continue;
    }
    out += c;
  }
  return out;
}

/** A RegExp of a Go-syntax pattern (throws SyntaxError as `new RegExp` does). */
export function goRegExp(source: string, flags?: string): RegExp {
  return new RegExp(fromGoSyntax(source), flags);
}
