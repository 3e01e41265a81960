import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createLogger, pinoLevel, prettyDestination } from '../../src/logging.js';

const dir = mkdtempSync(join(tmpdir(), 'gyre-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('createLogger', () => {
  it('maps log levels (none ⇒ silent)', () => {
    assert.equal(pinoLevel('none'), 'silent');
    for (const l of ['trace', 'debug', 'info', 'warn', 'error'] as const) {
      assert.equal(pinoLevel(l), l);
      assert.equal(createLogger({ level: l, file: '' }).level, l);
    }
    assert.equal(createLogger({ level: 'none', file: '' }).level, 'silent');
  });

  it('writes JSON lines at or above the level to the destination', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ level: 'warn', file: '' }, sink);
    log.info('hidden');
    log.warn({ key: 'client.x' }, 'shown');
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0] ?? '') as { msg: string; key: string; level: number };
    assert.equal(rec.msg, 'shown');
    assert.equal(rec.key, 'client.x');
    assert.equal(rec.level, 40);
  });

  it('log.file writes to that file', () => {
    const file = join(dir, 'sub', 'gyre.log');
    const log = createLogger({ level: 'info', file });
    log.info('to file');
    log.flush();
    assert.match(readFileSync(file, 'utf8'), /"msg":"to file"/);
  });

  it('pretty destination (terminals): one readable line per record, no JSON, no pid/hostname', () => {
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ level: 'info', file: '' }, prettyDestination(false, sink));
    log.info({ port: 8000 }, 'gyre started on http://localhost:8000');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 1, text);
    assert.match(lines[0] ?? '', /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO: gyre started on http:\/\/localhost:8000 \{"port":8000\}$/);
    assert.doesNotMatch(text, /hostname|"pid"/);
  });
});
