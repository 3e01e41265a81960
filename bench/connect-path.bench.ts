// Core connect+subscribe cost without any network: N sessions over a no-op transport, each fed the first
// frame gyre-bench sends (connect with an HS256 token + subscribe), on the real memory engine and JWT
// verifier. Reports µs per connection (median of 5 rounds) and the share spent verifying tokens.
// Run: node --import tsx bench/connect-path.bench.ts [N]          (default N = 20000)
// Env: ROUNDS (default 5); VARIANT=anon (anonymous connect, no token, no subscribe) or nosub (token, no
// subscribe); HEAP=1 with node --expose-gc prints the heap after each round (leak check).
import { pino } from 'pino';
import { createTokenVerifier } from '../src/auth/jwt.js';
import { signHs256 } from '../src/auth/sign.js';
import { defaultConfig } from '../src/config/index.js';
import type { GyreConfig } from '../src/config/types.js';
import { Node } from '../src/core/node.js';
import { createMemoryEngine } from '../src/engines/memory/index.js';
import type { SessionPort } from '../src/transports/types.js';
import { CountingTransport } from './lib/fake-node.js';

const N = Math.max(100, Math.min(200_000, Number(process.argv[2] ?? 20_000) || 20_000));
const ROUNDS = Number(process.env["ROUNDS"] ?? 5);
const SECRET = 'bench-secret';

function token(sub: string): string {
  return signHs256({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET);
}

function config(): GyreConfig {
  const c = defaultConfig();
  c.client.token.hmac_secret_key = SECRET;
  c.client.ping_interval = 25_000;
  c.channel.without_namespace.allow_subscribe_for_client = true;
  if (process.env['VARIANT'] === 'anon') c.client.allow_anonymous_connect_without_token = true;
  return c;
}

async function round(node: Node, frames: Uint8Array[]): Promise<number> {
  const ports: SessionPort[] = [];
  const transports: CountingTransport[] = [];
  const t0 = performance.now();
  for (let i = 0; i < frames.length; i++) {
    const t = new CountingTransport();
    transports.push(t);
    const p = node.accept(t);
    ports.push(p);
    p.handleFrame(frames[i]!);
  }
  // Connects finish asynchronously (token verification is async): wait until every transport got its reply.
  while (transports.some((t) => t.frames === 0)) await new Promise((r) => setImmediate(r));
  const us = ((performance.now() - t0) * 1000) / frames.length;
  for (const p of ports) p.handleTransportClose();
  await new Promise((r) => setTimeout(r, 50));
  return us;
}

async function main(): Promise<void> {
  const cfg = config();
  const engine = createMemoryEngine();
  const verifier = createTokenVerifier(cfg.client);
  const node = new Node({ config: cfg, engine, tokenVerifier: verifier, logger: pino({ level: 'silent' }), version: 'bench' });
  await node.start();
  const enc = new TextEncoder();
  const frames = Array.from({ length: N }, (_, i) =>
    enc.encode(
      process.env['VARIANT'] === 'anon'
        ? `{"id":1,"connect":{}}`
        : process.env['VARIANT'] === 'nosub'
          ? `{"id":1,"connect":{"token":"${token(`user-${i}`)}"}}`
          : `{"id":1,"connect":{"token":"${token(`user-${i}`)}"}}\n{"id":2,"subscribe":{"channel":"bench"}}`,
    ),
  );
  const tokens = frames.map((_, i) => token(`user-${i}`));
  const results: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    results.push(await round(node, frames));
    if (process.env["HEAP"]) { (globalThis as { gc?: () => void }).gc?.(); console.log(`heap after round ${r}: ${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MiB, hub sessions ${node.stats().clients}`); }
  }
  const t0 = performance.now();
  for (const t of tokens) await verifier.verifyConnectToken(t);
  const jwtUs = ((performance.now() - t0) * 1000) / tokens.length;
  results.sort((a, b) => a - b);
  const med = results[Math.floor(results.length / 2)]!;
  console.log(`connect+subscribe core path: ${med.toFixed(1)} µs/connection (median of ${ROUNDS} rounds of ${N}); rounds: ${results.map((x) => x.toFixed(1)).join(', ')}`);
  console.log(`  of which HS256 token verification alone: ${jwtUs.toFixed(1)} µs`);
  await node.shutdown();
  await engine.close();
}

await main();
