// /api/batch in slices (src/api/batch.ts, batch-scan.ts): the same acceptance as one JSON.parse + parseBatch,
// the batch size bound, and replies in order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { BatchTooLargeError, planBatch, runBatch } from '../../../src/api/batch.js';
import { parseApiJson } from '../../../src/api/decode.js';
import { ApiExecutor } from '../../../src/api/executor.js';
import { parseBatch } from '../../../src/api/schemas.js';
import { FakeNode } from './fake-node.js';

/** What the whole-body path decides: the number of commands, or 'reject' (HTTP 400). */
function reference(text: string): number | 'reject' {
  // The whole-body parser keeps payload bytes (docs/payloads.md); it accepts exactly what JSON.parse does.
  const parsed = parseApiJson(Buffer.from(text));
  if (!parsed.ok) return 'reject';
  try {
    return parseBatch(parsed.value).commands.length;
  } catch {
    return 'reject';
  }
}

async function sliced(text: string, max = 1_000_000): Promise<number | 'reject' | 'too large'> {
  try {
    return (await planBatch(Buffer.from(text), max)).total;
  } catch (err) {
    return err instanceof BatchTooLargeError ? 'too large' : 'reject';
  }
}

const bodies = [
  '{}',
  'null',
  '{"commands":[]}',
  '{"commands":null}',
  ' { "commands" : [ {"info":{}} , {"publish":{"channel":"a","data":{"x":[1,2,{"y":"]}"}]}}} ] , "parallel" : true } ',
  '{"commands":[{"info":{}}],"commands":[{"info":{}},{"info":{}}]}',
  '{"commands":[{"info":{}},{"info":{}}],"commands":null}',
  '{"comm\\u0061nds":[{"info":{}}]}',
  '{"commands":[null,{"nope":{}},{"info":null},{"info":{}}]}',
  '{"commands":[{"info":{}}],"other":{"deep":[[[["x"]]]]},"n":-1.5e3}',
  '{"commands":[{"publish":{"channel":"a","data":"s\\"}"}}]}',
  '{"commands":[1]}',
  '{"commands":"x"}',
  '{"commands":[{"info":{}}],"parallel":"yes"}',
  '{"commands":[{"publish":{"channel":5}}]}',
  '[]',
  '"x"',
  '',
  '{',
  '{"commands":[{"info":{}},]}',
  '{"commands":[{"info":{}}]',
  '{"commands":[{"info":{}}]}x',
  '{"commands":[{"info":{]}]}',
  '{"commands":[{"info":{}}] "parallel":true}',
  '{"commands":[tru]}',
  '{"a":01,"commands":[]}',
  '{"commands":[{"info":{}}],}',
  '{"k\tx":1}',
  '{"commands":[{"info":{"a":"\u0001"}}]}',
];

describe('planBatch', () => {
  for (const body of bodies) {
    it(`accepts exactly what JSON.parse + parseBatch accept: ${JSON.stringify(body).slice(0, 70)}`, async () => {
      assert.equal(await sliced(body), reference(body));
    });
  }

  it('refuses more than max_batch_size commands, accepts exactly max', async () => {
    const body = JSON.stringify({ commands: Array.from({ length: 1500 }, () => ({ info: {} })) });
    assert.equal(await sliced(body, 1499), 'too large');
    assert.equal(await sliced(body, 1500), 1500);
  });
});

describe('runBatch', () => {
  it('replies to every command in order across slices (sequential and parallel)', async () => {
    const node = new FakeNode();
    const executor = new ApiExecutor(node, pino({ level: 'silent' }));
    for (const parallel of [false, true]) {
      const commands = Array.from({ length: 2000 }, (_, i) => (i % 3 === 2 ? { nope: {} } : { publish: { channel: `c${i}`, data: { i } } }));
      const body = Buffer.from(JSON.stringify({ commands, parallel }));
      const plan = await planBatch(body, 10_000);
      assert.equal(plan.total, 2000);
      assert.equal(plan.parallel, parallel);
      const chunks: string[] = [];
      await runBatch(body, plan, executor, { write: (c) => void chunks.push(c) });
      assert.ok(chunks.length > 2, 'written in several pieces');
      const out = JSON.parse(chunks.join('')) as { replies: Record<string, unknown>[] };
      assert.equal(out.replies.length, 2000);
      out.replies.forEach((r, i) => {
        if (i % 3 === 2) assert.equal((r['error'] as { code: number }).code, 104);
        else assert.ok('publish' in r, `reply ${i}: ${JSON.stringify(r)}`);
      });
      const published = node.calls.splice(0).map((c) => c.args[0]);
      const expected = commands.flatMap((c, i) => ('publish' in c ? [`c${i}`] : []));
      assert.deepEqual(published, expected, 'run in order');
    }
  });

  it('no commands ⇒ {}', async () => {
    const executor = new ApiExecutor(new FakeNode(), pino({ level: 'silent' }));
    const body = Buffer.from('{"commands":[]}');
    let out = '';
    await runBatch(body, await planBatch(body, 10), executor, { write: (c) => void (out += c) });
    assert.equal(out, '{}');
  });
});
