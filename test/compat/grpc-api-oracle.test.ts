// The GRPC server API of Gyre and of real Centrifugo v6 side by side: the same calls, made with the same grpc-js
// client (stubs from api.proto), must give the same decoded responses and GRPC statuses. Values that differ by
// nature (epochs, node ids, versions, uptimes) are replaced by placeholders before comparing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_KEY } from '../harness/clients.js';
import { findCentrifugo, startCentrifugo, type CentrifugoProcess } from '../harness/centrifugo.js';
import { comparable, GrpcApiClient, rawUnary, type CallResult, type Msg } from '../harness/grpc.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';
import { baseConfig } from './base-config.js';

const centrifugoBin = findCentrifugo();
const SERVICE = '/centrifugal.centrifugo.api.CentrifugoApi';

/** Epoch strings differ by run. */
const normalize = (v: unknown): unknown => comparable(v, { epoch: (e) => (typeof e === 'string' ? '<epoch>' : e) });

function outcome(r: CallResult): unknown {
  if (r.error !== undefined) return { status: r.error.code, details: r.error.details };
  return normalize(r.response ?? {});
}

/** Calls made in this order on a fresh server; each answer is compared with the other server's. */
const CALLS: [string, Msg, Record<string, string>?][] = [
  ['Publish', { channel: 'open:o', data: Buffer.from('{ "a" : 1 }') }],
  ['Publish', { channel: 'rec:o', data: Buffer.from('{"x":"<&>"}'), tags: { t: '1' } }],
  ['Publish', { channel: 'rec:o', b64data: Buffer.from([1, 2, 3]).toString('base64') }],
  ['Publish', { channel: 'rec:o', data: Buffer.from([0, 0xff]), skip_history: true }],
  ['Publish', { channel: 'nope:o', data: Buffer.from('1') }],
  ['Publish', { channel: '', data: Buffer.from('1') }],
  ['Publish', { channel: 'open:o' }],
  ['Publish', { channel: 'nope:o', data: Buffer.from('1') }, { 'x-centrifugo-error-mode': 'transport' }],
  ['Publish', { channel: 'open:o' }, { 'x-centrifugo-error-mode': 'transport' }],
  ['History', { channel: 'rec:o', limit: 10 }],
  ['History', { channel: 'rec:o', limit: -1, reverse: true }],
  ['History', { channel: 'rec:o', limit: 0 }],
  ['History', { channel: 'open:o', limit: 10 }],
  ['History', { channel: 'rec:o', since: { offset: 99, epoch: 'x' }, limit: 10 }],
  ['Broadcast', { channels: ['rec:b', 'open:b', 'nope:b', ''], data: Buffer.from('[1]') }],
  ['Broadcast', { channels: [], data: Buffer.from('[1]') }],
  ['PresenceStats', { channel: 'pres:o' }],
  ['Presence', { channel: 'pres:o' }],
  ['Presence', { channel: 'open:o' }],
  ['Channels', { pattern: 'zzz*' }],
  ['Subscribe', { user: 'nobody', channel: 'open:o' }],
  ['Subscribe', { user: 'nobody', channel: '' }],
  ['Unsubscribe', { user: 'nobody', channel: 'open:o' }],
  ['Disconnect', { user: 'nobody' }],
  ['Refresh', { user: 'nobody' }],
  ['HistoryRemove', { channel: 'rec:o' }],
  ['HistoryRemove', { channel: 'open:o' }],
  ['RPC', { method: 'nope' }],
  ['RPC', {}],
  [
    'Batch',
    {
      commands: [
        { publish: { channel: 'rec:batch', data: Buffer.from('1') } },
        { presence_stats: { channel: 'pres:o' } },
        { history: { channel: 'rec:batch', limit: 5 } },
        { publish: { channel: 'nope:x', data: Buffer.from('1') } },
        {},
        { info: {} },
      ],
    },
  ],
  ['Batch', { commands: [] }],
];

describe('compat: GRPC API replies equal real Centrifugo v6', () => {
  let gyre: GyreProcess | undefined;
  let cf: CentrifugoProcess | undefined;
  const addr = { gyre: '', cf: '' };

  before(async () => {
    if (centrifugoBin === undefined) return;
    const [gp, cp] = [await freePort(), await freePort()];
    addr.gyre = `127.0.0.1:${gp}`;
    addr.cf = `127.0.0.1:${cp}`;
    const grpcApi = (port: number) => ({ grpc_api: { enabled: true, address: '127.0.0.1', port, key: API_KEY } });
    [gyre, cf] = await Promise.all([
      startGyre(mergeConfig(baseConfig(), grpcApi(gp))),
      startCentrifugo(mergeConfig(baseConfig(), grpcApi(cp)), { binary: centrifugoBin }),
    ]);
  });
  after(async () => {
    await Promise.all([gyre?.stop(), cf?.stop()]);
  });

  it('the same calls give the same responses, errors and statuses', async (t) => {
    if (centrifugoBin === undefined) return t.skip('centrifugo binary not installed (scripts/install-centrifugo.sh)');
    const g = new GrpcApiClient(addr.gyre, API_KEY);
    const c = new GrpcApiClient(addr.cf, API_KEY);
    try {
      for (const [method, req, metadata] of CALLS) {
        const opts = metadata !== undefined ? { metadata } : {};
        const [rg, rc] = [await g.call(method, req, opts), await c.call(method, req, opts)];
        let og = outcome(rg);
        let oc = outcome(rc);
        if (method === 'Batch') {
          // The info reply names the node: compare its shape only.
          og = JSON.stringify(og).replace(/"info":\{.*?\]\}/, '"info":<node>');
          oc = JSON.stringify(oc).replace(/"info":\{.*?\]\}/, '"info":<node>');
        }
        assert.deepEqual(og, oc, `${method} ${JSON.stringify(normalize(req))} ${JSON.stringify(metadata ?? {})}`);
      }
      // Info: one node each, with the same fields. `uptime` is left out: protobuf omits it while it is 0, so a
      // node started within the last second lacks it (either server, depending on timing).
      const [ig, ic] = [await g.ok('Info', {}), await c.ok('Info', {})];
      const skip = new Set(['metrics', 'process', 'uptime']);
      const fields = (r: Msg): string[] => Object.keys((r['nodes'] as Msg[])[0] ?? {}).filter((k) => !skip.has(k)).sort();
      assert.deepEqual(fields(ig), fields(ic));
      // Auth failures and unimplemented methods.
      for (const key of [null, 'wrong']) {
        assert.deepEqual(outcome(await g.call('Info', {}, { key })), outcome(await c.call('Info', {}, { key })));
      }
      const garbage = Buffer.from([0x0a, 0x7f, 0x61]);
      const auth = { authorization: `apikey ${API_KEY}` };
      const [bg, bc] = [await rawUnary(addr.gyre, `${SERVICE}/Publish`, garbage, auth), await rawUnary(addr.cf, `${SERVICE}/Publish`, garbage, auth)];
      assert.equal(bg.error?.code, bc.error?.code, 'undecodable request');
      assert.equal((await g.call('Connections', {})).error?.code, (await c.call('Connections', {})).error?.code);
    } finally {
      g.close();
      c.close();
    }
  });
});
