import { codecFor } from '../src/protocol/index.js';
const json = codecFor('json');
const enc = new TextEncoder();
const pub = { data: enc.encode('{"text":"hello"}'), offset: 8, info: { user: '42', client: '9a3b7c52-1d4e-4f7a-8b2c-6e5d4c3b2a10' } };
const pub2 = { data: enc.encode('{"text":"hello"}'), offset: 8 };
function t(name: string, fn: () => number) {
  let s = 0; for (let i = 0; i < 200000; i++) s += fn();
  const st = performance.now(); for (let i = 0; i < 1000000; i++) s += fn();
  return (performance.now() - st) / 1000;
}
for (let r = 0; r < 3; r++) {
  const a = t('gyre', () => json.encodePublicationPush('chat:index', pub).length);
  const b = t('gyre-noinfo', () => json.encodePublicationPush('chat:index', pub2).length);
  const c = t('stringify', () => JSON.stringify({ push: { channel: 'chat:index', pub: { data: JSON.parse('{"text":"hello"}'), info: pub.info, offset: 8 } } }).length);
  const d = t('stringify', () => enc.encode(JSON.stringify({ push: { channel: 'chat:index', pub: { data: JSON.parse('{"text":"hello"}'), info: pub.info, offset: 8 } } })).length);
  console.log({gyre: a.toFixed(3), noinfo: b.toFixed(3), naive: c.toFixed(3), naiveBytes: d.toFixed(3)});
}
