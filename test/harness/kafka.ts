// A real Apache Kafka broker for tests, in KRaft mode (one process, broker and controller), from Maven Central
// jars: `mvn dependency:copy-dependencies` of test/fixtures/kafka/pom.xml into node_modules/.cache/gyre-kafka
// (done once when missing; .ci/run does the same right after `npm ci`), then `java -cp 'libs/*' kafka.Kafka` on free
// loopback ports with a temp log dir, stopped by its PID (SIGKILLed on process exit). Needs java ≥ 17 and mvn.
import { execFile, spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './gyre.js';
import { freePort } from './ports.js';
import { removeTempDir, startServerProcess, tempDir } from './server-process.js';

const run = promisify(execFile);
const POM = join(REPO_ROOT, 'test', 'fixtures', 'kafka', 'pom.xml');
export const KAFKA_VERSION = '4.1.1';
const LIBS = join(REPO_ROOT, 'node_modules', '.cache', 'gyre-kafka', KAFKA_VERSION, 'libs');
function hasTool(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}

function jarsPresent(): boolean {
  return existsSync(LIBS) && readdirSync(LIBS).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`));
}

/**
 * The directory of the broker's jars, fetched with mvn when missing; or why the broker cannot run here (the
 * tests skip with that reason).
 */
export function prepareKafka(): { ok: true; libs: string } | { ok: false; reason: string } {
  if (!hasTool('java', ['-version'])) return { ok: false, reason: 'java is not installed (the Kafka broker runs on the JVM)' };
  if (jarsPresent()) return { ok: true, libs: LIBS };
  if (!hasTool('mvn', ['-v'])) return { ok: false, reason: 'mvn is not installed (needed once to fetch the Kafka jars)' };
  const tmp = `${LIBS}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const r = spawnSync('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime'], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    return { ok: false, reason: `could not fetch the Kafka ${KAFKA_VERSION} jars from Maven Central: ${(r.stderr || r.stdout || String(r.error)).slice(-300)}` };
  }
  try {
    renameSync(tmp, LIBS);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!jarsPresent()) throw err; // another test file won the race otherwise
  }
  return { ok: true, libs: LIBS };
}

async function portOpen(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
  });
}

export interface KafkaBroker {
  /** 127.0.0.1:PORT */
  address: string;
  pid(): number;
  stop(): Promise<void>;
}

export async function startKafka(libs: string): Promise<KafkaBroker> {
  const dir = tempDir('gyre-kafka-');
  const [port, controller] = [await freePort(), await freePort()];
  const props = join(dir, 'server.properties');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'logs')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
  );
  const cp = `${libs}/*`;
  const jvm = ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', cp];
  // A fixed cluster id (a base64 UUID, as `kafka-storage random-uuid` prints): each broker has its own log dir.
  await run('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', 'MkU3OEVBNTcwNTJENDM2Qg', '-c', props], { timeout: 120_000 });
  const server = startServerProcess('java', [...jvm, 'kafka.Kafka', props], { cwd: dir });
  await server.waitReady(`kafka on port ${port}`, () => portOpen(port), 90_000);
  return {
    address: `127.0.0.1:${port}`,
    pid: () => server.pid(),
    async stop() {
      await server.stop('SIGTERM', 10_000);
      removeTempDir(dir);
    },
  };
}
