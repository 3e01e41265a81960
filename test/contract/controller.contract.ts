// Controller contract: every engine's control-plane transport passes these cases. A subject is a set of
// controllers on one bus, one per node; single-node engines (memory: a loopback) give one and the multi-node
// cases are skipped for them. Delivery may be asynchronous, so cases wait for messages with a bound.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Controller } from '../../src/engines/types.js';
import { sleep, str, text, waitFor } from './contract-util.js';
import type { SkipMap } from './contract-util.js';

export interface ControllerSubject {
  /** Controllers on one bus (not started yet), one per node. */
  controllers: Controller[];
  close(): Promise<void>;
}
/** `nodes`: how many controllers the case needs (1 or 3). */
export type ControllerFactory = (nodes: number) => Promise<ControllerSubject>;

interface Started {
  ids: string[];
  got: string[][];
  c: Controller[];
}

async function startAll(s: ControllerSubject): Promise<Started> {
  const ids = s.controllers.map(() => randomUUID());
  const got: string[][] = s.controllers.map(() => []);
  for (let i = 0; i < s.controllers.length; i++) {
    await s.controllers[i]!.start(ids[i]!, (d) => got[i]!.push(str(d)));
  }
  return { ids, got, c: s.controllers };
}

interface Case {
  nodes: number;
  run(s: ControllerSubject): Promise<void>;
}

const cases: Record<string, Case> = {
  'a broadcast reaches every node, the sender included, with the bytes unchanged': {
    nodes: 1,
    async run(s) {
      const { c, got } = await startAll(s);
      const payload = new Uint8Array([0, 1, 2, 255, 10, 13]);
      await c[0]!.publishControl(payload);
      await waitFor(() => got.every((g) => g.length === 1), 2000, 'broadcast');
      for (const g of got) assert.equal(g[0], str(payload));
    },
  },
  'messages from one node arrive in the order sent': {
    nodes: 1,
    async run(s) {
      const { c, got } = await startAll(s);
      const sent: string[] = [];
      for (let i = 0; i < 50; i++) sent.push(`m${i}`);
      await Promise.all(sent.map((m) => c[0]!.publishControl(text(m))));
      await waitFor(() => got.every((g) => g.length === sent.length), 2000, 'all messages');
      for (const g of got) assert.deepEqual(g, sent);
    },
  },
  'a message to this node reaches it': {
    nodes: 1,
    async run(s) {
      const { c, got, ids } = await startAll(s);
      await c[0]!.publishControl(text('self'), ids[0]);
      await waitFor(() => got[0]!.length === 1, 2000, 'directed message');
      assert.equal(got[0]![0], 'self');
    },
  },
  'a message to an unknown node is dropped without error': {
    nodes: 1,
    async run(s) {
      const { c, got } = await startAll(s);
      await c[0]!.publishControl(text('nobody'), randomUUID());
      await c[0]!.publishControl(text('all'));
      await waitFor(() => got[0]!.length === 1, 2000, 'broadcast after the dropped one');
      assert.deepEqual(got[0], ['all']);
    },
  },
  'a message to another node reaches that node only': {
    nodes: 3,
    async run(s) {
      const { c, got, ids } = await startAll(s);
      await c[0]!.publishControl(text('for-2'), ids[2]);
      await c[0]!.publishControl(text('all'));
      await waitFor(() => got.every((g) => g.includes('all')), 2000, 'broadcast');
      await waitFor(() => got[2]!.includes('for-2'), 2000, 'directed');
      assert.deepEqual(got[0], ['all']);
      assert.deepEqual(got[1], ['all']);
      // Directed and broadcast messages travel on different channels (`.node.{id}` and `.control`), so their
      // relative order is not part of the contract: a Redis Cluster relays each PUBLISH over its bus on its
      // own. Order is kept among broadcasts from one node (the case above).
      assert.deepEqual([...got[2]!].sort(), ['all', 'for-2']);
    },
  },
  'a closed node receives nothing more': {
    nodes: 3,
    async run(s) {
      const { c, got } = await startAll(s);
      await c[1]!.close();
      await c[0]!.publishControl(text('after'));
      await waitFor(() => got[0]!.length === 1 && got[2]!.length === 1, 2000, 'broadcast');
      await sleep(50);
      assert.deepEqual(got[1], []);
    },
  },
};

export function runControllerContract(name: string, factory: ControllerFactory, maxNodes: number, skip: SkipMap = {}): void {
  for (const k of Object.keys(skip)) if (!(k in cases)) throw new Error(`unknown controller contract case: ${k}`);
  describe(`controller contract: ${name}`, () => {
    for (const [title, kase] of Object.entries(cases)) {
      const reason = skip[title] ?? (kase.nodes > maxNodes ? `needs ${kase.nodes} nodes; ${name} is single-node` : undefined);
      it(title, reason === undefined ? {} : { skip: reason }, async () => {
        const subject = await factory(kase.nodes);
        try {
          await kase.run(subject);
        } finally {
          await subject.close();
        }
      });
    }
  });
}
