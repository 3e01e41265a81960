// The worker's end of the IPC channel to the engine host in the cluster primary: request/reply by id, events
// dispatched to the broker and controller of this worker. Requests of one event-loop turn go out in one batch.
import { BatchedSender, opsOf } from '../../util/ipc-batch.js';
import { UnrecoverablePositionError } from '../types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import { ENGINE_TAG, type EngineEvent, type EngineRequest, type ReplyValue } from './protocol.js';

/** An IPC channel: `process` in a worker (process.send / 'message'), a cluster Worker in the primary. */
export interface IpcPort {
  send(message: unknown): void;
  /** Adds a message listener; returns its removal. */
  onMessage(fn: (message: unknown) => void): () => void;
  /** Adds a listener for the channel closing; returns its removal. */
  onDisconnect(fn: () => void): () => void;
  readonly connected: boolean;
}

/** Distributes a request's body (the request minus its id) over the union. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
export type RequestBody = WithoutId<EngineRequest>;

export interface LinkEvents {
  onPublication(channel: string, pub: Publication, position: StreamPosition | undefined): void;
  onJoin(channel: string, info: ClientInfo): void;
  onLeave(channel: string, info: ClientInfo): void;
  onControl(data: Uint8Array): void;
}

interface Pending {
  resolve(v: ReplyValue): void;
  reject(e: Error): void;
}

export class PrimaryLink {
  private readonly sender: BatchedSender<EngineRequest>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly stopListening: Array<() => void>;
  readonly events: LinkEvents = {
    onPublication: () => undefined,
    onJoin: () => undefined,
    onLeave: () => undefined,
    onControl: () => undefined,
  };

  constructor(
    private readonly port: IpcPort,
    /** A handler that threw on an event (handlers must not throw; the link keeps going). */
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.sender = new BatchedSender<EngineRequest>(ENGINE_TAG, (m) => {
      if (this.port.connected) this.port.send(m);
    });
    this.stopListening = [
      port.onMessage((m) => this.onMessage(m)),
      port.onDisconnect(() => this.fail(new Error('primary process gone'))),
    ];
  }

  get connected(): boolean {
    return !this.closed && this.port.connected;
  }

  request(body: RequestBody): Promise<ReplyValue> {
    if (!this.connected) return Promise.reject(new Error('no connection to the primary process'));
    const id = this.nextId++;
    return new Promise<ReplyValue>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sender.push({ ...body, id });
    });
  }

  close(): void {
    if (this.closed) return;
    this.sender.flush();
    this.fail(new Error('engine closed'));
    for (const stop of this.stopListening) stop();
  }

  private fail(err: Error): void {
    this.closed = true;
    this.sender.close();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private onMessage(message: unknown): void {
    const ops = opsOf<EngineEvent>(message, ENGINE_TAG);
    if (ops === undefined) return;
    for (let i = 0; i < ops.length; i++) {
      try {
        this.dispatch(ops[i] as EngineEvent);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private dispatch(op: EngineEvent): void {
    const ev = this.events;
    {
      switch (op.k) {
        case 20:
        case 21: {
          const p = this.pending.get(op.id);
          if (p === undefined) break;
          this.pending.delete(op.id);
          if (op.k === 20) p.resolve(op.v);
          else p.reject(op.unrecoverable !== undefined ? new UnrecoverablePositionError(op.unrecoverable) : new Error(op.error));
          break;
        }
        case 22:
          ev.onPublication(op.channel, op.pub, op.position);
          break;
        case 23:
          ev.onJoin(op.channel, op.info);
          break;
        case 24:
          ev.onLeave(op.channel, op.info);
          break;
        case 25:
          ev.onControl(op.data);
          break;
      }
    }
  }
}

/** The worker's own IPC channel (`process`, when this process was forked with one). */
export function processPort(): IpcPort {
  return {
    send: (m) => {
      process.send?.(m);
    },
    onMessage: (fn) => {
      process.on('message', fn);
      return () => process.off('message', fn);
    },
    onDisconnect: (fn) => {
      process.on('disconnect', fn);
      return () => process.off('disconnect', fn);
    },
    get connected() {
      return process.connected;
    },
  };
}
