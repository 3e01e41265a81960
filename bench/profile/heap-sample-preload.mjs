// Sampling heap profiler for one stretch of a server's life (node --import this file): the first SIGUSR2 starts
// V8's sampling heap profiler, the next one stops it and writes $HEAP_OUT/heap-<pid>.heapprofile (Chrome
// DevTools' format; bench/profile/heapprofile-top.ts summarises it). Objects collected by scavenges and major
// GCs are kept in the profile, so it shows the garbage made, not only what survived.
// $HEAP_INTERVAL: mean bytes between samples (default 4096). With $PROFILE_CPU=1 the same signals take a CPU profile
// instead ($HEAP_OUT/cpu-<pid>.cpuprofile, for cpuprofile-top.ts; sampling every $CPU_INTERVAL µs, default 200). bench/profile/burst-split.ts --heap-sample N sends the
// signals around burst N to every process of the server.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.HEAP_OUT ?? '/tmp';
const interval = Number(process.env.HEAP_INTERVAL ?? 4096);
const cpu = process.env.PROFILE_CPU === '1';
let session = null;
process.on('SIGUSR2', () => {
  if (session === null) {
    session = new Session();
    session.connect();
    if (cpu) {
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_INTERVAL ?? 200) });
      session.post('Profiler.start');
      return;
    }
    session.post('HeapProfiler.startSampling', {
      samplingInterval: interval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  const s = session;
  session = null;
  if (cpu) {
    s.post('Profiler.stop', (err, res) => {
      if (err === null) writeFileSync(`${out}/cpu-${process.pid}.cpuprofile`, JSON.stringify(res.profile));
      s.disconnect();
    });
    return;
  }
  s.post('HeapProfiler.stopSampling', (err, res) => {
    if (err === null) writeFileSync(`${out}/heap-${process.pid}.heapprofile`, JSON.stringify(res.profile));
    s.disconnect();
  });
});
