// The engine host in the cluster primary: one memory engine serving every worker over IPC. It is the one history
// and offset authority per channel, fans each publication, join and leave out to the workers subscribed to the
// channel (one batched IPC message per worker per event-loop turn, the payload bytes untouched), keeps one
// presence store, and relays control messages between the workers' control planes. When a worker goes, its
// channel subscriptions and presence entries go with it.
import { BatchedSender, opsOf } from '../../util/ipc-batch.js';
import { createMemoryEngine, type MemoryEngine, type MemoryEngineOptions } from '../memory/index.js';
import { UnrecoverablePositionError } from '../types.js';
import type { ClientInfo, StreamPosition } from '../../protocol/types.js';
import type { IpcPort } from './link.js';
import { ENGINE_TAG, type EngineEvent, type EngineRequest, type ReplyValue } from './protocol.js';

interface WorkerState {
  readonly id: number;
  readonly sender: BatchedSender<EngineEvent>;
  /** The node id its control plane started with ('' before). */
  nodeId: string;
  readonly channels: Set<string>;
  /** channel → clientId → userId of the presence entries this worker added. */
  readonly presence: Map<string, Map<string, string>>;
  stop(): void;
}

export class PrimaryEngineHost {
  private readonly engine: MemoryEngine;
  private readonly workers = new Map<number, WorkerState>();
  /** channel → workers subscribed to it. */
  private readonly subs = new Map<string, Set<WorkerState>>();
  /**
   * Node ids of workers whose IPC channel closed, kept until detach(id) asks for them: a crashed worker's
   * 'disconnect' comes before its 'exit', and the primary announces the node gone on 'exit'.
   */
  private readonly disconnected = new Map<number, string>();

  constructor(opts: MemoryEngineOptions = {}) {
    this.engine = createMemoryEngine(opts);
    void this.engine.broker.start({
      onPublication: (channel, pub, position) => this.fanOut(channel, position === undefined ? { k: 22, channel, pub } : { k: 22, channel, pub, position }),
      onJoin: (channel, info) => this.fanOut(channel, { k: 23, channel, info }),
      onLeave: (channel, info) => this.fanOut(channel, { k: 24, channel, info }),
    });
  }

  /** Serves a worker on `port` until detach(id) or the port disconnects. */
  attach(id: number, port: IpcPort): void {
    this.detach(id);
    const w: WorkerState = {
      id,
      sender: new BatchedSender<EngineEvent>(ENGINE_TAG, (m) => {
        if (port.connected) port.send(m);
      }),
      nodeId: '',
      channels: new Set(),
      presence: new Map(),
      stop: () => undefined,
    };
    const offMessage = port.onMessage((m) => {
      const ops = opsOf<EngineRequest>(m, ENGINE_TAG);
      if (ops === undefined) return;
      for (let i = 0; i < ops.length; i++) this.handle(w, ops[i] as EngineRequest);
    });
    const offDisconnect = port.onDisconnect(() => {
      const nodeId = this.detach(id);
      if (nodeId !== '') this.disconnected.set(id, nodeId);
    });
    w.stop = () => {
      offMessage();
      offDisconnect();
    };
    this.workers.set(id, w);
  }

  /**
   * Forgets a worker: its subscriptions end and its presence entries are removed. Returns its node id, also when
   * its IPC channel had already closed (once; '' before its controller started).
   */
  detach(id: number): string {
    const w = this.workers.get(id);
    if (w === undefined) {
      const nodeId = this.disconnected.get(id) ?? '';
      this.disconnected.delete(id);
      return nodeId;
    }
    this.workers.delete(id);
    w.stop();
    w.sender.close();
    void this.unsubscribe(w, [...w.channels]);
    for (const [channel, clients] of w.presence) {
      for (const [clientId, userId] of clients) void this.engine.presence.remove(channel, clientId, userId);
    }
    w.presence.clear();
    return w.nodeId;
  }

  /** Sends a control message to every worker but `exceptId` (the primary speaking for a worker that died). */
  broadcastControl(data: Uint8Array, exceptId = -1): void {
    for (const w of this.workers.values()) if (w.id !== exceptId && w.nodeId !== '') w.sender.push({ k: 25, data });
  }

  async close(): Promise<void> {
    for (const id of [...this.workers.keys()]) this.detach(id);
    await this.engine.close();
  }

  private fanOut(channel: string, ev: EngineEvent): void {
    const set = this.subs.get(channel);
    if (set === undefined) return;
    for (const w of set) w.sender.push(ev);
  }

  private subscribe(w: WorkerState, channels: readonly string[]): Promise<void> {
    const first: string[] = [];
    for (const ch of channels) {
      if (w.channels.has(ch)) continue;
      w.channels.add(ch);
      let set = this.subs.get(ch);
      if (set === undefined) {
        set = new Set();
        this.subs.set(ch, set);
        first.push(ch);
      }
      set.add(w);
    }
    return this.engine.broker.subscribe(first);
  }

  private unsubscribe(w: WorkerState, channels: readonly string[]): Promise<void> {
    const last: string[] = [];
    for (const ch of channels) {
      if (!w.channels.delete(ch)) continue;
      const set = this.subs.get(ch);
      if (set === undefined) continue;
      set.delete(w);
      if (set.size === 0) {
        this.subs.delete(ch);
        last.push(ch);
      }
    }
    return this.engine.broker.unsubscribe(last);
  }

  private addPresence(w: WorkerState, channel: string, clientId: string, info: ClientInfo): Promise<void> {
    let m = w.presence.get(channel);
    if (m === undefined) {
      m = new Map();
      w.presence.set(channel, m);
    }
    m.set(clientId, info.user);
    return this.engine.presence.add(channel, clientId, info);
  }

  private removePresence(w: WorkerState, channel: string, clientId: string, userId: string): Promise<void> {
    const m = w.presence.get(channel);
    if (m !== undefined && m.delete(clientId) && m.size === 0) w.presence.delete(channel);
    return this.engine.presence.remove(channel, clientId, userId);
  }

  private control(data: Uint8Array, to: string): Promise<void> {
    for (const w of this.workers.values()) {
      if (w.nodeId === '') continue;
      if (to === '' || to === w.nodeId) w.sender.push({ k: 25, data });
    }
    return Promise.resolve();
  }

  private run(w: WorkerState, op: EngineRequest): Promise<ReplyValue> {
    const e = this.engine;
    switch (op.k) {
      case 1:
        return this.subscribe(w, op.channels);
      case 2:
        return this.unsubscribe(w, op.channels);
      case 3:
        return e.broker.publish(op.channel, op.data, op.opts);
      case 4:
        return e.broker.publishJoin(op.channel, op.info);
      case 5:
        return e.broker.publishLeave(op.channel, op.info);
      case 6:
        return e.history.append(op.channel, op.pub, op.opts);
      case 7:
        return e.history.read(op.channel, op.opts);
      case 8:
        return e.history.remove(op.channel);
      case 9:
        return this.addPresence(w, op.channel, op.clientId, op.info);
      case 10:
        return this.removePresence(w, op.channel, op.clientId, op.userId);
      case 11:
        return e.presence.get(op.channel);
      case 12:
        return e.presence.stats(op.channel);
      case 13:
        w.nodeId = op.nodeId;
        return Promise.resolve(undefined);
      case 14:
        return this.control(op.data, op.to);
    }
  }

  private handle(w: WorkerState, op: EngineRequest): void {
    const id = op.id;
    let p: Promise<ReplyValue>;
    try {
      p = this.run(w, op);
    } catch (err) {
      p = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    p.then(
      (v) => w.sender.push({ k: 20, id, v }),
      (err: unknown) => w.sender.push(failure(id, err)),
    );
  }
}

function failure(id: number, err: unknown): EngineEvent {
  if (err instanceof UnrecoverablePositionError) {
    const unrecoverable: StreamPosition = err.position;
    return { k: 21, id, error: err.message, unrecoverable };
  }
  return { k: 21, id, error: err instanceof Error ? err.message : String(err) };
}
