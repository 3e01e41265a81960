// ControlCommand ⇄ centrifuge's controlpb.Command bytes (control.proto, generated code in gen/). Decoding never
// throws: malformed bytes are an error value, a body this version does not know is `unknown`.
import { controlpb as generated } from './gen/control.js';
import type { controlpb } from './gen/control-types.js';
import type { ControlBody, ControlCommand, ControlTarget, NodeInfoMessage } from './messages.js';

type Pb = typeof controlpb;
// gen/control.ts is generated JS under @ts-nocheck; its declarations live in gen/control-types.d.ts.
const pb: Pb = generated as unknown as Pb;

const EMPTY = new Uint8Array(0);

/** protobufjs decodes 64-bit integers as Long objects (when the `long` package is present) or numbers. */
type Int64 = number | { toNumber(): number } | null | undefined;
function num(v: Int64): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function bytesOrUndefined(b: Uint8Array | null | undefined): Uint8Array | undefined {
  return b === null || b === undefined || b.byteLength === 0 ? undefined : b;
}

interface PbTarget {
  user?: string | null;
  client?: string | null;
  session?: string | null;
  all_users?: boolean | null;
  label_filter?: controlpb.FilterNode.$Properties | null;
}

function target(m: PbTarget): ControlTarget {
  return {
    user: m.user ?? '',
    client: m.client ?? '',
    session: m.session ?? '',
    allUsers: m.all_users === true,
    labelFilter: m.label_filter !== null && m.label_filter !== undefined,
  };
}

function targetProps(t: ControlTarget): { user: string; client: string; session: string; all_users: boolean } {
  return { user: t.user, client: t.client, session: t.session, all_users: t.allUsers };
}

function nodeFromPb(n: controlpb.Node.$Properties): NodeInfoMessage {
  const out: NodeInfoMessage = {
    uid: n.uid ?? '',
    name: n.name ?? '',
    version: n.version ?? '',
    numClients: n.num_clients ?? 0,
    numUsers: n.num_users ?? 0,
    numChannels: n.num_channels ?? 0,
    numSubs: n.num_subs ?? 0,
    uptime: n.uptime ?? 0,
  };
  if (n.metrics !== null && n.metrics !== undefined) {
    out.metrics = { interval: n.metrics.interval ?? 0, items: { ...(n.metrics.items ?? {}) } };
  }
  const data = bytesOrUndefined(n.data);
  if (data !== undefined) out.data = data;
  return out;
}

function nodeToPb(n: NodeInfoMessage): controlpb.Node.$Properties {
  return {
    uid: n.uid,
    name: n.name,
    version: n.version,
    num_clients: n.numClients >>> 0,
    num_users: n.numUsers >>> 0,
    num_channels: n.numChannels >>> 0,
    num_subs: n.numSubs >>> 0,
    uptime: n.uptime >>> 0,
    ...(n.metrics !== undefined ? { metrics: { interval: n.metrics.interval, items: n.metrics.items } } : {}),
    ...(n.data !== undefined ? { data: n.data } : {}),
  };
}

function bodyFromPb(c: controlpb.Command.$Properties): ControlBody {
  if (c.node) return { kind: 'node', node: nodeFromPb(c.node) };
  if (c.shutdown) return { kind: 'shutdown' };
  if (c.unsubscribe) {
    const u = c.unsubscribe;
    return { kind: 'unsubscribe', ...target(u), channel: u.channel ?? '', code: u.code ?? 0, reason: u.reason ?? '' };
  }
  if (c.disconnect) {
    const d = c.disconnect;
    return {
      kind: 'disconnect',
      ...target(d),
      whitelist: [...(d.whitelist ?? [])],
      code: d.code ?? 0,
      reason: d.reason ?? '',
    };
  }
  if (c.subscribe) {
    const s = c.subscribe;
    const body: ControlBody = {
      kind: 'subscribe',
      ...target(s),
      channel: s.channel ?? '',
      presence: s.emit_presence === true,
      joinLeave: s.emit_join_leave === true,
      pushJoinLeave: s.push_join_leave === true,
      positioned: s.position === true,
      recoverable: s.recover === true,
      expireAt: num(s.expire_at),
      source: s.source ?? 0,
    };
    const info = bytesOrUndefined(s.channel_info);
    if (info !== undefined) body.chanInfo = info;
    const data = bytesOrUndefined(s.data);
    if (data !== undefined) body.data = data;
    if (s.recover_since !== null && s.recover_since !== undefined) {
      body.recoverSince = { offset: num(s.recover_since.offset), epoch: s.recover_since.epoch ?? '' };
    }
    return body;
  }
  if (c.refresh) {
    const r = c.refresh;
    const body: ControlBody = { kind: 'refresh', ...target(r), expired: r.expired === true, expireAt: num(r.expire_at) };
    const info = bytesOrUndefined(r.info);
    if (info !== undefined) body.info = info;
    return body;
  }
  if (c.survey_request) {
    const s = c.survey_request;
    return { kind: 'survey_request', id: num(s.id), op: s.op ?? '', data: s.data ?? EMPTY };
  }
  if (c.survey_response) {
    const s = c.survey_response;
    return { kind: 'survey_response', id: num(s.id), code: s.code ?? 0, data: s.data ?? EMPTY };
  }
  if (c.notification) return { kind: 'notification', op: c.notification.op ?? '', data: c.notification.data ?? EMPTY };
  return { kind: 'unknown' };
}

function assertNever(x: never): never {
  throw new Error(`unexpected control body ${String(x)}`);
}

function commandToPb(cmd: ControlCommand): controlpb.Command.$Properties {
  const b = cmd.body;
  const uid = cmd.uid;
  switch (b.kind) {
    case 'node':
      return { uid, node: nodeToPb(b.node) };
    case 'shutdown':
      return { uid, shutdown: {} };
    case 'unsubscribe':
      return { uid, unsubscribe: { ...targetProps(b), channel: b.channel, code: b.code, reason: b.reason } };
    case 'disconnect':
      return {
        uid,
        disconnect: { ...targetProps(b), whitelist: b.whitelist, code: b.code, reason: b.reason, reconnect: false },
      };
    case 'subscribe':
      return {
        uid,
        subscribe: {
          ...targetProps(b),
          channel: b.channel,
          emit_presence: b.presence,
          emit_join_leave: b.joinLeave,
          push_join_leave: b.pushJoinLeave,
          position: b.positioned,
          recover: b.recoverable,
          expire_at: b.expireAt,
          source: b.source,
          ...(b.chanInfo !== undefined ? { channel_info: b.chanInfo } : {}),
          ...(b.data !== undefined ? { data: b.data } : {}),
          ...(b.recoverSince !== undefined ? { recover_since: { offset: b.recoverSince.offset, epoch: b.recoverSince.epoch } } : {}),
        },
      };
    case 'refresh':
      return {
        uid,
        refresh: {
          ...targetProps(b),
          expired: b.expired,
          expire_at: b.expireAt,
          ...(b.info !== undefined ? { info: b.info } : {}),
        },
      };
    case 'survey_request':
      return { uid, survey_request: { id: b.id, op: b.op, data: b.data } };
    case 'survey_response':
      return { uid, survey_response: { id: b.id, code: b.code, data: b.data } };
    case 'notification':
      return { uid, notification: { op: b.op, data: b.data } };
    case 'unknown':
      throw new Error('cannot encode an unknown control body');
    default:
      return assertNever(b);
  }
}

export function encodeControl(cmd: ControlCommand): Uint8Array {
  return pb.Command.encode(commandToPb(cmd)).finish();
}

export type DecodedControl = { ok: true; cmd: ControlCommand } | { ok: false; error: string };

export function decodeControl(data: Uint8Array): DecodedControl {
  try {
    const c = pb.Command.decode(data);
    return { ok: true, cmd: { uid: c.uid ?? '', body: bodyFromPb(c) } };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
