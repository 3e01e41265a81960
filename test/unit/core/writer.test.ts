import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Writer } from '../../../src/core/writer.js';
import type { WriterOptions } from '../../../src/core/writer.js';
import type { Codec } from '../../../src/protocol/codec.js';
import type { Transport, TransportInfo } from '../../../src/transports/types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const msg = (s: string): Uint8Array => enc.encode(s);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Joins with '\n' like the JSON codec; everything else is unused by the writer. */
const codec: Codec = {
  format: 'json',
  decodeCommands: () => ({ commands: [] }),
  decodeSome: () => ({ commands: [] }),
  encodeReply: () => new Uint8Array(),
  encodePush: () => new Uint8Array(),
  encodePublicationPush: () => new Uint8Array(),
  barePush: (m) => m,
  pingMessage: msg('{}'),
  joinFrames(messages: readonly Uint8Array[]): Uint8Array {
    return msg(messages.map((m) => dec.decode(m)).join('\n'));
  },
  frameOne: (m) => m,
  canCarry: () => true,
};

class FakeTransport implements Transport {
  cork?: () => void;
  uncork?: () => void;
  readonly info: TransportInfo = { name: 'websocket', protocol: 'json', unidirectional: false, remoteAddress: '127.0.0.1', headers: {} };
  readonly frames: string[] = [];
  bufferedBytes = 0;
  onceDrained(cb: () => void): void {
    setImmediate(cb);
  }
  pauseReading(): void {}
  resumeReading(): void {}
  onWrite: ((frame: Uint8Array) => void) | undefined;
  closed = false;
  write(frame: Uint8Array): void {
    this.frames.push(dec.decode(frame));
    this.onWrite?.(frame);
  }
  close(): void {
    this.closed = true;
  }
}

function make(over: Partial<WriterOptions> = {}): { w: Writer; t: FakeTransport; overflows: number[] } {
  const t = new FakeTransport();
  const overflows: number[] = [];
  const w = new Writer({ transport: t, codec, maxQueueBytes: 1 << 20, onOverflow: (b) => overflows.push(b), ...over });
  return { w, t, overflows };
}

describe('Writer', () => {
  const writers: Writer[] = [];
  afterEach(() => {
    for (const w of writers.splice(0)) w.close();
  });
  const track = <T extends { w: Writer }>(x: T): T => {
    writers.push(x.w);
    return x;
  };

  it('joins messages enqueued in one macrotask into one frame written on setImmediate', async () => {
    const { w, t } = track(make());
    w.enqueue(msg('a'));
    w.enqueue(msg('b'));
    w.enqueue(msg('c'));
    assert.deepEqual(t.frames, [], 'nothing written synchronously');
    await tick();
    assert.deepEqual(t.frames, ['a\nb\nc']);
    w.enqueue(msg('d'));
    await tick();
    assert.deepEqual(t.frames, ['a\nb\nc', 'd']);
  });

  it('splits into frames of at most maxMessagesPerFrame, preserving order', async () => {
    const { w, t } = track(make({ maxMessagesPerFrame: 2 }));
    for (const s of ['1', '2', '3', '4', '5']) w.enqueue(msg(s));
    await tick();
    assert.deepEqual(t.frames, ['1\n2', '3\n4', '5']);
  });

  it('flushEach: one frame per message, in order, inside one cork of the transport', () => {
    const { w, t } = track(make());
    const calls: string[] = [];
    t.cork = () => void calls.push('cork');
    t.uncork = () => void calls.push('uncork');
    const write = t.write.bind(t);
    t.write = (f) => {
      calls.push('write');
      write(f);
    };
    for (const s of ['connect', 'subscribe', 'push']) w.enqueue(msg(s));
    w.flushEach();
    assert.deepEqual(t.frames, ['connect', 'subscribe', 'push']);
    assert.deepEqual(calls, ['cork', 'write', 'write', 'write', 'uncork']);
  });

  it('defaults to 64 messages per frame', async () => {
    const { w, t } = track(make());
    for (let i = 0; i < 130; i++) w.enqueue(msg(String(i)));
    await tick();
    assert.deepEqual(t.frames.map((f) => f.split('\n').length), [64, 64, 2]);
    assert.equal(t.frames.join('\n').split('\n').join(','), Array.from({ length: 130 }, (_, i) => i).join(','));
  });

  it('schedules one flush at a time', async () => {
    const real = globalThis.setImmediate;
    let scheduled = 0;
    const counting = ((fn: (...args: unknown[]) => void, ...args: unknown[]) => {
      scheduled++;
      return real(fn, ...args);
    }) as typeof setImmediate;
    globalThis.setImmediate = counting;
    try {
      const { w } = track(make());
      for (let i = 0; i < 10; i++) w.enqueue(msg('x'));
      assert.equal(scheduled, 1);
    } finally {
      globalThis.setImmediate = real;
    }
    await tick();
  });

  it('flush() writes synchronously and cancels the scheduled flush', async () => {
    const { w, t } = track(make());
    w.enqueue(msg('a'));
    w.enqueue(msg('b'));
    w.flush();
    assert.deepEqual(t.frames, ['a\nb']);
    await tick();
    assert.deepEqual(t.frames, ['a\nb'], 'no second (empty) write');
    w.flush();
    assert.equal(t.frames.length, 1, 'flush with nothing pending writes nothing');
  });

  it('queuedBytes = pending bytes + transport buffer', async () => {
    const { w, t } = track(make());
    t.bufferedBytes = 100;
    assert.equal(w.queuedBytes, 100);
    w.enqueue(msg('abc'));
    w.enqueue(msg('de'));
    assert.equal(w.queuedBytes, 105);
    await tick();
    assert.equal(w.queuedBytes, 100);
  });

  it('overflow: onOverflow once with the queued bytes, then everything is dropped', async () => {
    const { w, t, overflows } = track(make({ maxQueueBytes: 10 }));
    w.enqueue(msg('123456'));
    assert.deepEqual(overflows, []);
    w.enqueue(msg('789012'));
    assert.deepEqual(overflows, [12]);
    assert.equal(w.isOverflowed, true);
    w.enqueue(msg('x'));
    w.enqueue(msg('y'));
    assert.deepEqual(overflows, [12], 'reported once');
    await tick();
    assert.deepEqual(t.frames, [], 'pending messages dropped');
    assert.equal(w.queuedBytes, 0);
  });

  it('exactly maxQueueBytes is allowed', async () => {
    const { w, t, overflows } = track(make({ maxQueueBytes: 4 }));
    w.enqueue(msg('ab'));
    w.enqueue(msg('cd'));
    assert.deepEqual(overflows, []);
    await tick();
    assert.deepEqual(t.frames, ['ab\ncd']);
  });

  it('overflow counts the transport buffer (slow reader)', () => {
    const { w, overflows } = track(make({ maxQueueBytes: 10 }));
    w.enqueue(msg('1234'));
    w.flush();
    const t = (w as unknown as { transport: FakeTransport }).transport;
    t.bufferedBytes = 8;
    w.enqueue(msg('abc'));
    assert.deepEqual(overflows, [11]);
  });

  it('close() cancels pending work and ignores later messages', async () => {
    const { w, t } = track(make());
    w.enqueue(msg('a'));
    w.close();
    w.enqueue(msg('b'));
    w.flush();
    await tick();
    assert.deepEqual(t.frames, []);
    assert.equal(w.queuedBytes, 0);
    w.close(); // idempotent
  });

  it('messages enqueued from inside a write go to the next frame', async () => {
    const { w, t } = track(make());
    let once = true;
    t.onWrite = () => {
      if (once) {
        once = false;
        w.enqueue(msg('late'));
        w.flush(); // re-entrant flush is a no-op, the scheduled one writes it
      }
    };
    w.enqueue(msg('a'));
    w.flush();
    assert.deepEqual(t.frames, ['a']);
    await tick();
    assert.deepEqual(t.frames, ['a', 'late']);
  });

  it('a lone message is framed by frameOne, several by joinFrames, turn after turn', async () => {
    const marked: Codec = { ...codec, frameOne: (m) => msg(`<${dec.decode(m)}>`) };
    const { w, t } = track(make({ codec: marked }));
    w.enqueue(msg('a'));
    await tick();
    w.enqueue(msg('b'));
    w.enqueue(msg('c'));
    await tick();
    w.enqueue(msg('d'));
    await tick();
    w.enqueue(msg('e'));
    w.enqueue(msg('f'));
    w.enqueue(msg('g'));
    await tick();
    assert.deepEqual(t.frames, ['<a>', 'b\nc', '<d>', 'e\nf\ng']);
  });

  it('a lone message enqueued from inside the write of a batch goes to the next frame, and back', async () => {
    const { w, t } = track(make());
    let n = 0;
    t.onWrite = () => {
      n++;
      if (n === 1) w.enqueue(msg('x'));
      if (n === 2) {
        w.enqueue(msg('y'));
        w.enqueue(msg('z'));
      }
    };
    w.enqueue(msg('a'));
    w.enqueue(msg('b'));
    await tick();
    assert.deepEqual(t.frames, ['a\nb']);
    await tick();
    await tick();
    assert.deepEqual(t.frames, ['a\nb', 'x', 'y\nz']);
  });

  it('close() drops a lone pending message too', async () => {
    const { w, t } = track(make());
    w.enqueue(msg('a'));
    w.close();
    await tick();
    assert.deepEqual(t.frames, []);
    assert.equal(w.queuedBytes, 0);
  });

  it('a single oversized message overflows', () => {
    const { w, overflows } = track(make({ maxQueueBytes: 3 }));
    w.enqueue(msg('abcd'));
    assert.deepEqual(overflows, [4]);
  });
});
