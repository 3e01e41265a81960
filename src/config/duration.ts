// Go-style duration strings ("25s", "100ms", "1h30m", "720h") ⇄ whole milliseconds.
// Config durations are parsed here once; the rest of Gyre only sees numbers of ms.

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

export const DURATION_HINT =
  'expected a duration string with units (ns, us, ms, s, m, h), e.g. "25s", "100ms", "1h30m"; a bare number is accepted only for 0';

/** Parses a duration string to ms (rounded to the nearest ms). Returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  let s = text.trim();
  if (s === '0') return 0;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (m === null) return undefined;
    const [, num, unit] = m;
    if (num === undefined || unit === undefined) return undefined;
    const factor = UNIT_MS[unit];
    if (factor === undefined) return undefined;
    total += Number(num) * factor;
  }
  if (!Number.isFinite(total)) return undefined;
  return sign * Math.round(total);
}

/**
 * Accepts a config value for a duration field: a string with units, or the number 0.
 * Returns the ms value or an error message.
 */
export function durationFromConfig(value: unknown): { ok: true; ms: number } | { ok: false; message: string } {
  if (value === 0) return { ok: true, ms: 0 };
  if (typeof value === 'string') {
    const ms = parseDuration(value);
    if (ms === undefined) return { ok: false, message: `invalid duration ${JSON.stringify(value)}: ${DURATION_HINT}` };
    if (ms < 0) return { ok: false, message: `negative duration ${JSON.stringify(value)} is not allowed` };
    return { ok: true, ms };
  }
  if (typeof value === 'number') {
    return { ok: false, message: `invalid duration ${String(value)}: ${DURATION_HINT}` };
  }
  return { ok: false, message: `invalid duration of type ${typeof value}: ${DURATION_HINT}` };
}

/** Renders ms back to the shortest Go-style string: 0 → "0s", 1500 → "1.5s", 90 min → "1h30m", 100 → "100ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(Math.round(ms));
  if (rest < 1000) return `${neg ? '-' : ''}${rest}ms`;
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  if (h > 0) out += `${h}h`;
  if (m > 0) out += `${m}m`;
  if (rest > 0) {
    const sec = rest / 1000;
    out += `${Number.isInteger(sec) ? sec : sec.toFixed(3).replace(/0+$/, '')}s`;
  }
  return (neg ? '-' : '') + out;
}
