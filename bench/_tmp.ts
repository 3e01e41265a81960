import { codecFor } from '../src/protocol/index.js';
const json = codecFor('json');
const enc = new TextEncoder();
const pub = { data: enc.encode('{"text":"hello"}'), offset: 8, info: { user: '42', client: '9a3b7c52-1d4e-4f7a-8b2c-6e5d4c3b2a10' } };
function t(name: string, fn: () => number) {
  let s = 0; for (let i = 0; i < 200000; i++) s += fn();
  const st = performance.now(); for (let i = 0; i < 1000000; i++) s += fn();
  console.log(name, ((performance.now() - st) / 1000).toFixed(3), 'us/op', s > 0);
}
const u = new Uint8Array(16384);
t('gyre', () => json.encodePublicationPush('chat:index', pub).length);
t('slice120', () => u.slice(0, 120).length);
t('new Uint8Array(120)', () => new Uint8Array(120).length);
t('subarray', () => u.subarray(0, 120).length);
t('stringify', () => JSON.stringify({ push: { channel: 'chat:index', pub: { data: JSON.parse('{"text":"hello"}'), info: pub.info, offset: 8 } } }).length);
