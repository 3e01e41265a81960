// Centrifugo's JWKS endpoint safety check (docs/config.md): a `{{name}}` placeholder of jwks_public_endpoint is
// filled from the token's unverified iss/aud through the named group `name` of issuer_regex / audience_regex, so
// that group must be an explicit list of fixed values ("a|b|c"); anything wider would let a forged token send the
// key fetch to a server of its choice. When a template is used, the regexes may not contain character classes
// (`[...]`, `\d`, `\w`, `\s`, `\p` and their negations) at all. `insecure_skip_jwks_endpoint_safety_check` turns the
// refusal into a warning, as in Centrifugo. A group is fixed when it is made only of literal characters, escaped
// punctuation, `|` and groups that are fixed themselves (no `.`, quantifier, anchor or backreference).

const CLASS_SHORTHANDS = new Set(['d', 'D', 'w', 'W', 's', 'S', 'p', 'P']);

/** The placeholder names of a template ("{{tenant}}" ⇒ tenant). */
function placeholders(endpoint: string): Set<string> {
  const out = new Set<string>();
  for (const m of endpoint.matchAll(/\{\{(.*?)\}\}/g)) out.add(m[1]!);
  return out;
}

function classSyntax(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '[') return 'contains character class syntax';
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[i + 1]!;
      if (CLASS_SHORTHANDS.has(next)) return `contains character class shorthand (\\${next})`;
      i++;
    }
  }
  return undefined;
}

/** `(?P<name>` or `(?<name>` at i: the name and where its body starts. */
function groupName(pattern: string, i: number): { name: string; body: number } | undefined {
  const m = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(pattern.slice(i));
  return m === null ? undefined : { name: m[1]!, body: i + m[0].length };
}

/** The end (index of the closing parenthesis) of the group whose body starts at `start`. */
function groupEnd(pattern: string, start: number): number {
  let depth = 1;
  for (let i = start; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return pattern.length;
}

/** Whether a group body matches only a finite set of fixed strings. */
function isFixed(body: string): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[i + 1];
      // An escaped letter or digit is a class, an anchor or a backreference; escaped punctuation is literal.
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return false;
      i++;
    } else if (c === '(') {
      // Plain, non-capturing and named groups are structure; lookarounds and flags are not literal.
      if (body[i + 1] === '?') {
        const rest = body.slice(i + 2);
        if (rest.startsWith(':')) i += 2;
        else if (/^P?<[A-Za-z_]/.test(rest)) i = body.indexOf('>', i);
        else return false;
      }
    } else if ('.*+?{}^$'.includes(c)) return false;
  }
  return true;
}

/** Why `pattern` (at `name`, e.g. "issuer_regex") is unsafe for the template's placeholders, or undefined. */
function unsafeRegex(name: string, pattern: string, used: Set<string>): string | undefined {
  if (pattern === '') return undefined;
  const cls = classSyntax(pattern);
  if (cls !== undefined) {
    return `${name} ${cls} which is not allowed when JWKS endpoint URL template is used — use an explicit list of allowed values (e.g., value1|value2|value3)`;
  }
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') {
      i++;
      continue;
    }
    const g = pattern[i] === '(' ? groupName(pattern, i) : undefined;
    if (g === undefined || !used.has(g.name)) continue;
    if (!isFixed(pattern.slice(g.body, groupEnd(pattern, g.body)))) {
      return `${name} named group "${g.name}" is used in JWKS endpoint URL template — only an explicit list of allowed values is permitted (e.g., value1|value2|value3)`;
    }
  }
  return undefined;
}

export interface JwksSafetyInput {
  jwks_public_endpoint: string;
  issuer_regex: string;
  audience_regex: string;
}

/** The first safety problem of a token section: the regex key it is about and why; undefined when safe. */
export function jwksSafetyProblem(t: JwksSafetyInput): { key: 'issuer_regex' | 'audience_regex'; reason: string } | undefined {
  const used = placeholders(t.jwks_public_endpoint);
  if (used.size === 0) return undefined;
  for (const key of ['issuer_regex', 'audience_regex'] as const) {
    const reason = unsafeRegex(key, t[key], used);
    if (reason !== undefined) return { key, reason };
  }
  return undefined;
}
