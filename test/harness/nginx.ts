// A real nginx (Debian's /usr/sbin/nginx) for tests: its own prefix directory, a config written by the test
// (WebSocket proxying to Gyre upstreams), a free loopback port, started in the foreground and stopped by PID
// (SIGKILLed on process exit).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { commandRuns } from './probe.js';
import { sleep } from './wait.js';

const run = promisify(execFile);
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export const nginxAvailable = (): Promise<boolean> => commandRuns('nginx', ['-v']);

export interface NginxProcess {
  port: number;
  pid: number;
  dir: string;
  /** The error log so far (warn and above). */
  errorLog(): string;
  /** `nginx -s reload` with this instance's prefix and config. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** nginx proxying ws://127.0.0.1:<port>/ to `upstreams` (loopback ports), with WebSocket upgrade headers. */
export async function startNginx(
  upstreams: number[],
  opts: {
    workerConnections?: number;
    retry503?: boolean;
    /** Parameters of every upstream `server` line, e.g. 'max_fails=1 fail_timeout=1s'. */
    serverParams?: string;
    /** `worker_shutdown_timeout`: after a reload, old workers cut their remaining connections after this. */
    workerShutdownTimeout?: string;
    /** Every response (101s included) carries `X-Upstream: <address:port of the node that answered>`. */
    tagUpstream?: boolean;
  } = {},
): Promise<NginxProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  // Without this nginx hands a draining node's 503 to the client; with it, it tries the next upstream.
  const retry = opts.retry503 === true ? 'proxy_next_upstream error timeout http_503;' : '';
  const conf = `
worker_processes 1;
${opts.workerShutdownTimeout === undefined ? '' : `worker_shutdown_timeout ${opts.workerShutdownTimeout};`}
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections ${opts.workerConnections ?? 4096}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream gyre { ${upstreams.map((p) => `server 127.0.0.1:${p} ${opts.serverParams ?? ''};`).join(' ')} }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gyre;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      ${retry}
      ${opts.tagUpstream === true ? 'add_header X-Upstream $upstream_addr always;' : ''}
    }
  }
}
`;
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const child = spawn('nginx', ['-p', dir, '-c', confFile, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when the port answers.
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    await sleep(50);
  }
  return {
    port,
    pid: child.pid ?? 0,
    dir,
    errorLog: () => {
      try {
        return readFileSync(join(dir, 'logs', 'error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    reload: async () => {
      await run('nginx', ['-p', dir, '-c', confFile, '-s', 'reload']);
    },
    stop: async () => {
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
