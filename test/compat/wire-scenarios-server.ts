// Wire-trace scenarios, part 2: disconnect paths (close code + reason), the HTTP API (every method's success and
// error envelope, transport error mode, batch, auth/HTTP errors) and server-side subscriptions (token
// `channels`/`subs`, API subscribe/unsubscribe/refresh pushes). See wire-scenarios.ts for part 1.
import { connToken } from '../harness/tokens.js';
import { connect, epochOf, WIRE_API_KEY, type Scenario } from './wire-scenarios.js';

const TRANSPORT = { 'X-Centrifugo-Error-Mode': 'transport' };

export const serverScenarios: Record<string, Scenario> = {
  disconnects: async (d) => {
    await d.open('badtoken');
    d.send('badtoken', { id: 1, connect: { token: 'not-a-jwt' } });
    await d.closed('badtoken');
    await d.open('beforeconnect');
    d.send('beforeconnect', { id: 1, subscribe: { channel: 'pub:x' } });
    await d.closed('beforeconnect');
    await connect(d, 'malformed', 'u-d1');
    d.sendRaw('malformed', '{"id":2,"subscribe":');
    await d.closed('malformed');
    await connect(d, 'unknown', 'u-d2');
    d.send('unknown', { id: 2 });
    await d.closed('unknown');
    await connect(d, 'pong', 'u-d3');
    d.send('pong', {});
    await d.closed('pong');
    await connect(d, 'emptych', 'u-d4');
    d.send('emptych', { id: 2, subscribe: { channel: '' } });
    await d.closed('emptych');
    await connect(d, 'noid', 'u-d5');
    d.send('noid', { subscribe: { channel: 'pub:x' } });
    await d.closed('noid');
    await connect(d, 'second', 'u-d6');
    d.send('second', { id: 2, connect: { token: await connToken({ sub: 'u-d6' }) } });
    await d.closed('second');
    await connect(d, 'send', 'u-d7');
    d.send('send', { send: { data: { hello: 1 } } });
    await d.closed('send');
    await connect(d, 'big', 'u-d8');
    d.sendRaw('big', JSON.stringify({ id: 2, publish: { channel: 'pub:x', data: 'x'.repeat(70_000) } }), '<70 KB>');
    await d.closed('big');
    await connect(d, 'emptyframe', 'u-d9');
    d.sendRaw('emptyframe', '');
    await d.closed('emptyframe');
  },

  'api-disconnects': async (d) => {
    await connect(d, 'lim1', 'u-lim');
    await connect(d, 'lim2', 'u-lim');
    await connect(d, 'lim3', 'u-lim');
    await d.closed('lim3');
    await d.api('disconnect', { user: 'u-lim' });
    await d.closed('lim1');
    await d.closed('lim2');
    await connect(d, 'c1', 'u-custom');
    await connect(d, 'c2', 'u-custom');
    await d.api('disconnect', { user: 'u-custom', disconnect: { code: 4501, reason: 'custom bye' } });
    await d.closed('c1');
    await d.closed('c2');
    await connect(d, 'e1', 'u-expire');
    await d.api('refresh', { user: 'u-expire', expired: true });
    await d.closed('e1');
    await connect(d, 'e2', 'u-expire2');
    await d.api('refresh', { user: 'u-expire2', expire_at: Math.floor(Date.now() / 1000) - 5 });
    await d.closed('e2');
  },

  'server-side-subs': async (d) => {
    await d.api('publish', { channel: 'srv:a', data: { before: 1 } });
    await connect(d, 'a', 'u-srv', {
      expIn: 3600,
      channels: ['srv:a'],
      subs: { 'srv:b': { data: { welcome: true }, info: { role: 'x' } } },
    });
    // With `subs` in the token Centrifugo ignores `channels`: no push for srv:a (an unexpected one would show up
    // in the next recv).
    await d.api('publish', { channel: 'srv:a', data: { n: 1 } });
    await d.api('subscribe', { user: 'u-srv', channel: 'srv:c', data: { hi: 'sub' } });
    await d.recv('a', 1);
    await d.api('subscribe', { user: 'u-srv', channel: 'pub:d' });
    await d.recv('a', 1);
    await d.api('presence', { channel: 'srv:c' });
    await d.api('unsubscribe', { user: 'u-srv', channel: 'srv:c' });
    await d.recv('a', 1);
    await d.api('refresh', { user: 'u-srv', expire_at: Math.floor(Date.now() / 1000) + 600 });
    await d.recv('a', 1);
    await d.api('refresh', { user: 'u-srv', info: { changed: true } });
    await d.recv('a', 1);
    const r = await d.api('history', { channel: 'srv:a', limit: 0 });
    const epoch = epochOf(r, 'result');
    await d.finish();
    await d.api('publish', { channel: 'srv:a', data: { n: 2 } });
    await d.open('b');
    d.send('b', {
      id: 1,
      connect: {
        token: await connToken({ sub: 'u-srv2', channels: ['srv:a'] }),
        subs: { 'srv:a': { recover: true, offset: 2, epoch } },
      },
    });
    await d.recv('b', 1);
    await d.open('c');
    d.send('c', { id: 1, connect: { token: await connToken({ sub: 'u-srv3', channels: ['nope:a'] }) } });
    await d.recv('c', 1);
  },

  'api-methods': async (d) => {
    await d.api('publish', { channel: 'pub:api', data: { a: 1 } });
    await d.api('publish', { channel: 'rec:api', data: { a: 1 }, idempotency_key: 'k1' });
    await d.api('publish', { channel: 'rec:api', data: { a: 1 }, idempotency_key: 'k1' });
    await d.api('publish', { channel: 'rec:api', data: { a: 2 }, skip_history: true });
    await d.api('publish', { channel: '', data: 1 });
    await d.api('publish', { channel: 'nope:x', data: 1 });
    await d.api('publish', { channel: 'pub:api' });
    await d.api('publish', { channel: 'pub:api', b64data: '!!!' });
    await d.api('broadcast', { channels: ['pub:api', 'rec:api', 'nope:x', ''], data: 2 });
    await d.api('broadcast', { channels: [], data: 2 });
    await d.api('subscribe', { user: 'nobody', channel: 'pub:api' });
    await d.api('subscribe', { user: 'nobody', channel: 'nope:x' });
    await d.api('subscribe', { user: 'nobody', channel: '' });
    await d.api('unsubscribe', { user: 'nobody', channel: 'pub:api' });
    await d.api('unsubscribe', { user: 'nobody', channel: 'nope:x' });
    await d.api('disconnect', { user: 'nobody' });
    await d.api('refresh', { user: 'nobody', expire_at: 1 });
    await d.api('presence', { channel: 'pub:api' });
    await d.api('presence', { channel: 'nope:x' });
    await d.api('presence', { channel: '' });
    await d.api('presence', { channel: 'pres:empty' });
    await d.api('presence_stats', { channel: 'pub:api' });
    await d.api('presence_stats', { channel: 'pres:empty' });
    await d.api('history', { channel: 'pub:api' });
    await d.api('history', { channel: 'rec:api', limit: -1 });
    await d.api('history', { channel: 'rec:nothing', limit: 5 });
    await d.api('history', { channel: '' });
    await d.api('history_remove', { channel: 'pub:api' });
    await d.api('history_remove', { channel: 'rec:api' });
    await d.api('rpc', { method: 'nope', params: {} });
    await d.api('rpc', { method: '' });
    await d.api('channels', { pattern: 'nothing:*' });
    await d.api('info', {});
  },

  'api-transport-errors-and-batch': async (d) => {
    await d.api('publish', { channel: '', data: 1 }, { headers: TRANSPORT });
    await d.api('publish', { channel: 'nope:x', data: 1 }, { headers: TRANSPORT });
    await d.api('presence', { channel: 'pub:x' }, { headers: TRANSPORT });
    await d.api('history', { channel: 'rec:t', since: { offset: 1, epoch: 'x' } }, { headers: TRANSPORT });
    await d.api('rpc', { method: 'nope' }, { headers: TRANSPORT });
    await d.api('publish', { channel: 'pub:t', data: 1 }, { headers: TRANSPORT });
    await d.api('broadcast', { channels: ['nope:x'], data: 1 }, { headers: TRANSPORT });
    const batch = {
      commands: [
        { publish: { channel: 'pub:b', data: { n: 1 } } },
        { publish: { channel: 'nope:b', data: 1 } },
        { broadcast: { channels: ['rec:b', 'pub:b'], data: 2 } },
        { presence_stats: { channel: 'pub:b' } },
        { history: { channel: 'rec:b', limit: -1 } },
        { info: {} },
        {},
      ],
    };
    await d.api('batch', batch);
    await d.api('batch', { ...batch, commands: batch.commands.slice(0, 4), parallel: true });
    await d.api('batch', batch, { headers: TRANSPORT });
    await d.api('batch', { commands: [] });
  },

  'api-http-errors': async (d) => {
    await d.api('publish', { channel: 'pub:h', data: 1 }, { noKey: true });
    await d.api('publish', { channel: 'pub:h', data: 1 }, { noKey: true, headers: { 'X-API-Key': 'wrong' } });
    await d.api('publish', { channel: 'pub:h', data: 1 }, { noKey: true, headers: { Authorization: `apikey ${WIRE_API_KEY}` } });
    await d.api(`publish?api_key=${WIRE_API_KEY}`, { channel: 'pub:h', data: 1 }, { noKey: true });
    await d.api('nope', {});
    await d.api('publish', undefined, { httpMethod: 'GET' });
    await d.api('publish', undefined, { raw: '{"channel":' });
    await d.api('publish', undefined, { raw: '{"channel":"pub:h","data":1,"skip_history":"yes"}' });
    await d.api('', undefined, {
      raw: '{"id":1,"method":"publish","params":{"channel":"pub:h","data":1}}\n{"id":2,"method":"presence","params":{"channel":"pub:h"}}',
    });
  },
};
