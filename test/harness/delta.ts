// Delta compression test material shared by the single-node and the cross-node tests: payload series where each
// differs a little from the one before, the publication pushes as they were on the wire, and a server API
// publish with the `delta` flag.
import type { CentClient } from 'cent.js';
import { isRecord, type Recorder } from './clients.js';
import { seededRandom as rng } from './rng.js';

/**
 * `n` payloads where each differs a little from the one before: counters, a changing word, JSON escapes and,
 * every 25th, a payload unrelated to the previous one. Unless `ascii`, also non-ASCII text that every 5th time
 * changes to a character sharing its lead byte (é/è: C3 A9 / C3 A8, so a copy ends inside the character and the
 * JSON patch could not be a string; Centrifugo mangles such a patch, docs/delta.md).
 */
export function deltaPayloads(n: number, opts: { ascii?: boolean } = {}): Array<Record<string, unknown>> {
  const r = rng(7);
  const ascii = opts.ascii === true;
  const words = ascii
    ? ['alpha', 'beta', 'gamma', 'delta', '"quoted"', 'tab\there', '<tag>&amp;']
    : ['alpha', 'beta', 'gamma', 'δέλτα', 'эпсилон', '"quoted"', 'tab\there', '<tag>&amp;', '😀 emoji'];
  const out: Array<Record<string, unknown>> = [];
  const items = Array.from({ length: 20 }, (_, i) => ({ id: i, v: Math.floor(r() * 1000) }));
  for (let i = 0; i < n; i++) {
    items[Math.floor(r() * items.length)]!.v = Math.floor(r() * 1000);
    if (i % 25 === 24) {
      out.push({ reset: i, blob: Array.from({ length: 30 }, () => Math.floor(r() * 1e9).toString(36)).join('') });
      continue;
    }
    const accent = ascii ? `${Math.floor(i / 5) % 2 === 0 ? 'e' : 'f'}` : `${Math.floor(i / 5) % 2 === 0 ? 'é' : 'è'}`;
    out.push({
      n: i,
      word: words[i % words.length],
      accent: `prefix-prefix-prefix-${accent}-suffix-suffix-suffix`,
      items: items.map((x) => ({ ...x })),
    });
  }
  return out;
}

export interface WirePub {
  delta: boolean;
  data: unknown;
}

/** The publication pushes of `channel` in the recorded JSON frames: the delta flag and the raw data value. */
export function wirePubs(rec: Recorder, channel: string): WirePub[] {
  const out: WirePub[] = [];
  for (const m of rec.messages()) {
    if (!isRecord(m) || !isRecord(m['push'])) continue;
    const push = m['push'];
    if (push['channel'] !== channel || !isRecord(push['pub'])) continue;
    out.push({ delta: push['pub']['delta'] === true, data: push['pub']['data'] });
  }
  return out;
}

/** The first subscribe reply in the recorded JSON frames (of a client with one subscription). */
export function firstSubscribeReply(rec: Recorder): Record<string, unknown> | undefined {
  for (const m of rec.messages()) if (isRecord(m) && isRecord(m['subscribe'])) return m['subscribe'];
  return undefined;
}

export interface DeltaPublish {
  channel: string;
  data: unknown;
  delta?: boolean;
}

/** Server API publish with the `delta` flag (cent.js 6 passes fields through but does not type this one). */
export function publishWithDelta(api: CentClient, req: DeltaPublish): Promise<unknown> {
  return (api.publish as (r: DeltaPublish) => Promise<unknown>)(req);
}
