// Every delivery of one pool, kept for `fanout --latency-dump`: client index, payload seq, send time (the
// payload's `ts`) and receive time, epoch ms on the generator's shared clock. Written at the end as raw
// little-endian Float64 rows of 4 to `<prefix>.w<pool>`, so that a run's tail can be taken apart per
// publication and per client afterwards (bench/profile/latency-dump.ts reads them).
import { writeFileSync } from 'node:fs';

export const DUMP_COLUMNS = 4;
/** Rows kept at most per pool (~32 MB); later deliveries are counted, not kept. */
const MAX_ROWS = 1_000_000;

export class LatencyDump {
  private rows = new Float64Array(DUMP_COLUMNS * 65_536);
  private n = 0;
  dropped = 0;

  constructor(private readonly file: string) {}

  add(client: number, seq: number, sentMs: number, receivedMs: number): void {
    if (this.n >= MAX_ROWS) {
      this.dropped++;
      return;
    }
    let at = this.n * DUMP_COLUMNS;
    if (at + DUMP_COLUMNS > this.rows.length) {
      const bigger = new Float64Array(this.rows.length * 2);
      bigger.set(this.rows);
      this.rows = bigger;
    }
    const r = this.rows;
    r[at++] = client;
    r[at++] = seq;
    r[at++] = sentMs;
    r[at] = receivedMs;
    this.n++;
  }

  get size(): number {
    return this.n;
  }

  write(): void {
    const bytes = new Uint8Array(this.rows.buffer, 0, this.n * DUMP_COLUMNS * 8);
    writeFileSync(this.file, bytes);
  }
}

/** Rows of a file written by LatencyDump.write. */
export function readLatencyDump(bytes: Uint8Array): Float64Array {
  const copy = new Uint8Array(bytes.byteLength - (bytes.byteLength % (DUMP_COLUMNS * 8)));
  copy.set(bytes.subarray(0, copy.byteLength));
  return new Float64Array(copy.buffer);
}
