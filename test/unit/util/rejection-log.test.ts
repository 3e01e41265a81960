import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RejectionLog } from '../../../src/util/rejection-log.js';

interface Line {
  obj: Record<string, unknown>;
  msg: string;
}

function sink(): { lines: Line[]; info(obj: Record<string, unknown>, msg: string): void } {
  const lines: Line[] = [];
  return { lines, info: (obj, msg) => lines.push({ obj, msg }) };
}

describe('RejectionLog', () => {
  it('builds lazy details only for a line written at once; counted refusals keep the last built ones', () => {
    const s = sink();
    const log = new RejectionLog(s, 10_000, false);
    let built = 0;
    const details = (): Record<string, unknown> => ({ remote: `10.0.0.${++built}` });
    for (let i = 0; i < 100; i++) log.note('handshake', 'busy: rate', details);
    assert.equal(built, 1);
    assert.equal(s.lines[0]?.obj['remote'], '10.0.0.1');
    log.note('handshake', 'busy: rate', { remote: '10.0.0.200' });
    log.flush();
    assert.equal(s.lines[1]?.obj['count'], 100);
    assert.deepEqual(s.lines[1]?.obj['last'], { remote: '10.0.0.200' });
  });

  it('logs the first refusal of a reason at once, then one summary per window with the count', () => {
    const s = sink();
    const log = new RejectionLog(s, 10_000, false);
    for (let i = 0; i < 1000; i++) log.note('connect', 'invalid token', { remote: `10.0.0.${i % 250}`, code: 3500 });
    log.note('handshake', 'origin not allowed', { origin: 'https://evil.example', allowed_origins: ['https://app.example'] });
    assert.equal(s.lines.length, 2);
    assert.equal(s.lines[0]?.msg, 'connect rejected: invalid token');
    assert.equal(s.lines[0]?.obj['remote'], '10.0.0.0');
    assert.deepEqual(s.lines[1]?.obj['allowed_origins'], ['https://app.example']);

    log.flush();
    assert.equal(s.lines.length, 3, 'only the reason refused again gets a summary');
    assert.equal(s.lines[2]?.obj['count'], 999);
    assert.equal(s.lines[2]?.obj['reason'], 'invalid token');
    assert.deepEqual(s.lines[2]?.obj['last'], { remote: '10.0.0.249', code: 3500 });
    assert.match(s.lines[2]?.msg ?? '', /999 more in the last 10 s/);

    // A storm that goes on: still one line per window, nothing logged immediately.
    for (let i = 0; i < 50; i++) log.note('connect', 'invalid token', { i });
    assert.equal(s.lines.length, 3);
    log.flush();
    assert.equal(s.lines.length, 4);
    assert.equal(s.lines[3]?.obj['count'], 50);

    // A quiet window forgets the reason: the next refusal is logged at once again.
    log.flush();
    assert.equal(s.lines.length, 4);
    log.note('connect', 'invalid token', { again: true });
    assert.equal(s.lines.length, 5);
    assert.equal(s.lines[4]?.msg, 'connect rejected: invalid token');
  });

  it('close() writes the pending summaries', () => {
    const s = sink();
    const log = new RejectionLog(s, 10_000, false);
    log.note('tls', 'handshake failed', {});
    log.note('tls', 'handshake failed', {});
    log.close();
    assert.deepEqual(
      s.lines.map((l) => l.obj['count']),
      [undefined, 1],
    );
  });
});
