import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  hasToken,
  isWholeGetOf,
  acceptKey,
  findHeadEnd,
  headText,
  isHandshakeError,
  parseRequestHead,
  parseSubprotocols,
  switchingProtocols,
  upgradeFieldsOf,
  validateUpgrade,
} from '../../../src/transports/handshake.js';
import type { RequestHead } from '../../../src/transports/handshake.js';
import { chooseSubprotocol, formatOf } from '../../../src/transports/upgrade.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function head(lines: string[], requestLine = 'GET /connection/websocket HTTP/1.1'): RequestHead {
  const h = parseRequestHead([requestLine, ...lines].join('\r\n'));
  assert.ok(h !== null);
  return h;
}

const UPGRADE = ['Host: x', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'];

describe('request head parsing', () => {
  it('finds the end of a head split across chunks, resuming the search where it stopped', () => {
    const whole = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\nrest', 'latin1');
    for (let cut = 1; cut < whole.length - 4; cut++) {
      const first = whole.subarray(0, cut);
      const firstEnd = findHeadEnd(first);
      const joined = Buffer.concat([first, whole.subarray(cut)]);
      const end = findHeadEnd(joined, first.length);
      assert.equal(end, 27, `cut at ${cut}`);
      if (cut < 27) assert.equal(firstEnd, -1);
    }
    assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n')), -1);
  });

  it('finds the end of a head with bare-LF line ends (Go reads them) and rewrites it to CRLF', () => {
    for (const [text, end] of [
      ['GET / HTTP/1.1\nHost: x\n\nrest', 24],
      ['GET / HTTP/1.1\r\nHost: x\n\nrest', 25],
      ['GET / HTTP/1.1\nHost: x\r\n\r\nrest', 26],
      ['GET / HTTP/1.1\nHost: x\n\r\nrest', 25],
    ] as const) {
      const buf = Buffer.from(text, 'latin1');
      assert.equal(findHeadEnd(buf), end, JSON.stringify(text));
      assert.deepEqual(headText(buf, end), { text: 'GET / HTTP/1.1\r\nHost: x', rewritten: true });
    }
    const crlf = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
    assert.deepEqual(headText(crlf, findHeadEnd(crlf)), { text: 'GET / HTTP/1.1\r\nHost: x', rewritten: false });
    // Split in the middle of the terminating blank line.
    const first = Buffer.from('GET / HTTP/1.1\nHost: x\n', 'latin1');
    assert.equal(findHeadEnd(first), -1);
    assert.equal(findHeadEnd(Buffer.concat([first, Buffer.from('\n')]), first.length), 24);
  });

  it('reads method, target and handshake headers case-insensitively', () => {
    const h = head(['HOST: x', 'upgrade: WebSocket', 'CONNECTION: keep-alive, Upgrade', `sec-websocket-KEY: ${KEY}`, 'Sec-WebSocket-Version:13', 'Origin:   https://a.example  ']);
    assert.equal(h.method, 'GET');
    assert.equal(h.url, '/connection/websocket');
    assert.equal(h.upgrade, 'WebSocket');
    assert.equal(h.key, KEY);
    assert.equal(h.version, '13');
    assert.equal(h.origin, 'https://a.example');
    assert.equal(h.isUpgrade, true);
    assert.equal(h.headers['host'], 'x');
  });

  it('merges duplicates like Node: joined with ", ", first wins for single-valued headers, set-cookie an array', () => {
    const h = head(['Host: a', 'Host: b', 'X-A: 1', 'x-a: 2', 'Set-Cookie: c=1', 'Set-Cookie: d=2', 'Sec-WebSocket-Protocol: a', 'Sec-WebSocket-Protocol: b']);
    assert.equal(h.headers['host'], 'a');
    assert.equal(h.headers['x-a'], '1, 2');
    assert.deepEqual(h.headers['set-cookie'], ['c=1', 'd=2']);
    // The handshake reads only the first subprotocol line, as Centrifugo does.
    assert.equal(h.protocol, 'a');
  });

  it('a duplicated key: the first one counts (Centrifugo answers 101)', () => {
    const r = validateUpgrade(head([...UPGRADE, 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==']));
    assert.ok(!isHandshakeError(r));
    assert.equal(r.key, KEY);
  });

  it('reads the same fields from a raw header list (the http.Server path)', () => {
    const f = upgradeFieldsOf('GET', ['Upgrade', 'websocket', 'sec-websocket-key', ` ${KEY} `, 'Sec-WebSocket-Key', 'x', 'Sec-WebSocket-Version', '8', 'Sec-WebSocket-Version', '13', 'Sec-WebSocket-Protocol', '', 'Sec-WebSocket-Protocol', 'centrifuge-json']);
    assert.deepEqual(f, { method: 'GET', upgrade: 'websocket', version: '8, 13', key: KEY, protocol: '' });
    const r = validateUpgrade(f);
    assert.ok(!isHandshakeError(r));
    assert.deepEqual(r.protocols, []);
  });

  it('refuses obsolete line folding, malformed request lines and header lines (left to the http parser)', () => {
    assert.equal(parseRequestHead('GET / HTTP/1.1\r\nX-A: 1\r\n  continued'), null);
    assert.equal(parseRequestHead('GET / HTTP/1.1\r\nno colon here'), null);
    assert.equal(parseRequestHead('GET / HTTP/1.1\r\nBad : x'), null);
    assert.equal(parseRequestHead('GET /'), null);
    assert.equal(parseRequestHead('GET  / HTTP/1.1'), null);
    assert.equal(parseRequestHead('GET / HTTP/2.0'), null);
  });

  it('reads handshake header names in any letter case and trims values as String.prototype.trim does', () => {
    const h = head([
      'UPGRADE: \t websocket \u00a0',
      'cOnNeCtIoN:Upgrade',
      `sec-websocket-KEY:\u000b${KEY}\u000c`,
      'Sec-WebSocket-Version: 13',
      'Sec-Websocket-Protocol: centrifuge-json ',
      'Sec-WebSocket-Extensions: a',
      'sec-websocket-extensions: b',
      'Origin: https://a.example',
    ]);
    assert.equal(h.upgrade, 'websocket');
    assert.equal(h.connection, 'Upgrade');
    assert.equal(h.key, KEY);
    assert.equal(h.version, '13');
    assert.equal(h.protocol, 'centrifuge-json');
    assert.equal(h.extensions, 'a, b');
    assert.equal(h.origin, 'https://a.example');
    assert.equal(h.isUpgrade, true);
  });

  it('leaves other headers of a handshake name length alone, and still lists every header in the full map', () => {
    // Cookie and Accept (6, like Origin), Referer (7, like Upgrade), User-Agent (10, like Connection), and names
    // that differ from a handshake name in one character or in a non-letter.
    const h = head(['Cookie: a=1', 'Accept: */*', 'Referer: r', 'User-Agent: u', 'Connectiom: upgrade', 'Sec\tWebSocket-Key: k', 'Upgrade: websocket']);
    assert.equal(h.origin, undefined);
    assert.equal(h.connection, undefined);
    assert.equal(h.key, undefined);
    assert.equal(h.upgrade, 'websocket');
    assert.deepEqual(h.headers, {
      cookie: 'a=1',
      accept: '*/*',
      referer: 'r',
      'user-agent': 'u',
      connectiom: 'upgrade',
      'sec\twebsocket-key': 'k',
      upgrade: 'websocket',
    });
    assert.deepEqual(head([]).headers, {});
    assert.deepEqual(parseRequestHead('GET / HTTP/1.0')?.headers, {});
  });

  it('finds a token in a comma-separated list, trimmed and in any letter case', () => {
    const yes: [string, string][] = [
      ['Upgrade', 'upgrade'], ['keep-alive, Upgrade', 'upgrade'], [' UPGRADE ,x', 'upgrade'], ['a,,\tupgrade\u00a0', 'upgrade'],
      ['8, 13', '13'], ['13', '13'], ['x,websocket,', 'websocket'],
    ];
    const no: [string | undefined, string][] = [
      [undefined, 'upgrade'], ['', 'upgrade'], [',', 'upgrade'], ['upgrades', 'upgrade'], ['up grade', 'upgrade'],
      ['upgrade-x, keep-alive', 'upgrade'], ['\u00c0pgrade', 'upgrade'], ['113, 1', '13'], ['websocket;q=1', 'websocket'],
    ];
    for (const [list, token] of yes) assert.equal(hasToken(list, token), true, JSON.stringify([list, token]));
    for (const [list, token] of no) assert.equal(hasToken(list, token), false, JSON.stringify([list, token]));
  });

  it('takes HTTP/1.1 and HTTP/1.0 only', () => {
    for (const v of ['HTTP/1.1', 'HTTP/1.0']) assert.ok(parseRequestHead(`GET / ${v}\r\nHost: x`) !== null, v);
    for (const v of ['HTTP/1.2', 'HTTP/1.10', 'HTTP/1.', 'http/1.1', 'HTTP/1.1 ', 'XTTP/1.1']) {
      assert.equal(parseRequestHead(`GET / ${v}\r\nHost: x`), null, v);
    }
  });

  it('is not an upgrade without both Upgrade and a Connection: upgrade token', () => {
    assert.equal(head(['Upgrade: websocket']).isUpgrade, false);
    assert.equal(head(['Upgrade: websocket', 'Connection: keep-alive']).isUpgrade, false);
    assert.equal(head(['Connection: upgrade']).isUpgrade, false);
  });
});

describe('early refusal match (isWholeGetOf)', () => {
  const pre = Buffer.from('GET /connection/websocket', 'latin1');
  const head = (line: string, end = '\r\n\r\n'): Buffer => Buffer.from(`${line}\r\nHost: x\r\nUpgrade: websocket${end}`, 'latin1');
  it('matches a whole head for the path, with or without a query', () => {
    assert.equal(isWholeGetOf(head('GET /connection/websocket HTTP/1.1'), pre), true);
    assert.equal(isWholeGetOf(head('GET /connection/websocket?format=protobuf HTTP/1.1'), pre), true);
  });
  it('not another path, a longer path, another method, or a head not yet complete', () => {
    assert.equal(isWholeGetOf(head('GET /health HTTP/1.1'), pre), false);
    assert.equal(isWholeGetOf(head('GET /connection/websocketx HTTP/1.1'), pre), false);
    assert.equal(isWholeGetOf(head('GET /connection/uni_websocket HTTP/1.1'), pre), false);
    assert.equal(isWholeGetOf(head('POST /connection/websocket HTTP/1.1'), pre), false);
    assert.equal(isWholeGetOf(head('GET /connection/websocket HTTP/1.1', '\r\n'), pre), false);
    assert.equal(isWholeGetOf(Buffer.from('GET /connection/websocket', 'latin1'), pre), false);
  });
});

describe("upgrade validation (Centrifugo's upgrader)", () => {
  const status = (h: RequestHead): number => {
    const r = validateUpgrade(h);
    return isHandshakeError(r) ? r.status : 101;
  };
  const withLine = (name: string, value: string | null): string[] =>
    [...UPGRADE.filter((l) => !l.toLowerCase().startsWith(`${name.toLowerCase()}:`)), ...(value === null ? [] : [`${name}: ${value}`])];

  it('accepts a valid request', () => {
    const r = validateUpgrade(head(UPGRADE));
    assert.ok(!isHandshakeError(r));
    assert.equal(r.key, KEY);
    assert.deepEqual(r.protocols, []);
  });

  it('405 for non-GET, 400 for a bad Upgrade, key or version (with Sec-WebSocket-Version)', () => {
    assert.equal(status(head(UPGRADE, 'POST /connection/websocket HTTP/1.1')), 405);
    assert.equal(status(head(withLine('Upgrade', 'h2c'))), 400);
    assert.equal(status(head(withLine('Sec-WebSocket-Key', null))), 400);
    assert.equal(status(head(withLine('Sec-WebSocket-Key', 'short'))), 400);
    const badVersion = validateUpgrade(head(withLine('Sec-WebSocket-Version', '12')));
    assert.ok(isHandshakeError(badVersion));
    assert.equal(badVersion.status, 400);
    assert.deepEqual(badVersion.headers, { 'Sec-WebSocket-Version': '13, 8' });
    assert.equal(status(head(withLine('Sec-WebSocket-Version', null))), 400);
    assert.equal(status(head(withLine('Sec-WebSocket-Version', '8'))), 101);
  });

  it('accepts token lists in Upgrade and Sec-WebSocket-Version, as Centrifugo does', () => {
    assert.equal(status(head(withLine('Upgrade', 'websocket, foo'))), 101);
    assert.equal(status(head(withLine('Upgrade', 'foo, WebSocket'))), 101);
    assert.equal(status(head(withLine('Sec-WebSocket-Version', '13, 8'))), 101);
    assert.equal(status(head(withLine('Sec-WebSocket-Version', '7, 13'))), 101);
  });

  it('never refuses a Sec-WebSocket-Protocol value: empty, blank, repeated, malformed (Centrifugo: 101)', () => {
    for (const v of ['', ' ', 'a b', 'a, a', ',centrifuge-json,', 'centrifuge-json, centrifuge-json']) {
      assert.equal(status(head([...UPGRADE, `Sec-WebSocket-Protocol: ${v}`])), 101, JSON.stringify(v));
    }
    // An empty header line with no space after the colon (what centrifuge-python sends).
    assert.equal(status(head([...UPGRADE, 'Sec-WebSocket-Protocol:'])), 101);
  });

  it('parses subprotocol lists into trimmed non-empty entries, in order', () => {
    assert.deepEqual(parseSubprotocols(undefined), []);
    assert.deepEqual(parseSubprotocols(''), []);
    assert.deepEqual(parseSubprotocols('centrifuge-json , centrifuge-protobuf'), ['centrifuge-json', 'centrifuge-protobuf']);
    assert.deepEqual(parseSubprotocols('a,,b'), ['a', 'b']);
  });

  it("chooses the client's first subprotocol that is ours; format by that choice or by query", () => {
    assert.equal(chooseSubprotocol(['centrifuge-json', 'centrifuge-protobuf']), 'centrifuge-json');
    assert.equal(chooseSubprotocol(['x', 'centrifuge-protobuf', 'centrifuge-json']), 'centrifuge-protobuf');
    assert.equal(chooseSubprotocol(['x']), false);
    assert.equal(formatOf('centrifuge-protobuf', ''), 'protobuf');
    assert.equal(formatOf(false, 'format=protobuf'), 'protobuf');
    assert.equal(formatOf(false, 'a=1&cf_protocol=protobuf'), 'protobuf');
    assert.equal(formatOf('centrifuge-json', 'format=json'), 'json');
  });

  it('computes Sec-WebSocket-Accept (RFC 6455 sample) and the 101 head', () => {
    assert.equal(acceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const expected = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const res = switchingProtocols(KEY, 'centrifuge-json');
    assert.ok(res.startsWith('HTTP/1.1 101 Switching Protocols\r\n'));
    assert.ok(res.includes(`\r\nSec-WebSocket-Accept: ${expected}\r\n`));
    assert.ok(res.includes('\r\nSec-WebSocket-Protocol: centrifuge-json\r\n'));
    assert.ok(res.endsWith('\r\n\r\n'));
    assert.ok(!switchingProtocols(KEY, false).includes('Sec-WebSocket-Protocol'));
  });
});
