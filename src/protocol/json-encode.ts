// Hand-written JSON serialisation of replies and pushes (docs/protocol.md §1.2, §1.6–1.8). Zero values are
// omitted except for the fields Centrifugo always writes; field order follows the proto field order, as
// Centrifugo's output does. Raw payloads are spliced in as JSON text (never parsed).
import type { JsonWriter } from './json-writer.js';
import type {
  ClientInfo,
  ConnectResult,
  ProtocolErrorBody,
  Publication,
  Push,
  Raw,
  Reply,
  SubscribeResult,
} from './types.js';

function rawField(w: JsonWriter, name: string, data: Raw | undefined): void {
  if (data !== undefined && data.length > 0) {
    w.field(name);
    w.raw(data);
  }
}

function strField(w: JsonWriter, name: string, s: string | undefined): void {
  if (s !== undefined && s !== '') {
    w.field(name);
    w.str(s);
  }
}

function numField(w: JsonWriter, name: string, n: number | undefined): void {
  if (n !== undefined && n !== 0) {
    w.field(name);
    w.num(n);
  }
}

function trueField(w: JsonWriter, name: string, b: boolean | undefined): void {
  if (b === true) {
    w.field(name);
    w.ascii('true');
  }
}

function hasKeys(o: object | undefined): o is object {
  if (o === undefined || o === null) return false;
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

export function writeClientInfo(w: JsonWriter, info: ClientInfo): void {
  w.open();
  w.field('user');
  w.str(info.user ?? '');
  w.field('client');
  w.str(info.client ?? '');
  rawField(w, 'conn_info', info.conn_info);
  rawField(w, 'chan_info', info.chan_info);
  w.close();
}

function writeTags(w: JsonWriter, tags: Record<string, string>): void {
  w.open();
  for (const k of Object.keys(tags)) {
    w.key(k);
    w.str(tags[k] ?? '');
  }
  w.close();
}

export function writePublication(w: JsonWriter, pub: Publication): void {
  w.open();
  rawField(w, 'data', pub.data);
  if (pub.info !== undefined) {
    w.field('info');
    writeClientInfo(w, pub.info);
  }
  numField(w, 'offset', pub.offset);
  if (hasKeys(pub.tags)) {
    w.field('tags');
    writeTags(w, pub.tags);
  }
  trueField(w, 'delta', pub.delta);
  numField(w, 'time', pub.time);
  strField(w, 'channel', pub.channel);
  strField(w, 'key', pub.key);
  trueField(w, 'removed', pub.removed);
  strField(w, 'epoch', pub.epoch);
  numField(w, 'version', pub.version);
  w.close();
}

function writePublications(w: JsonWriter, pubs: readonly Publication[]): void {
  w.openArray();
  for (let i = 0; i < pubs.length; i++) {
    w.sep();
    writePublication(w, pubs[i] as Publication);
  }
  w.closeArray();
}

function writeError(w: JsonWriter, e: ProtocolErrorBody): void {
  w.open();
  numField(w, 'code', e.code);
  strField(w, 'message', e.message);
  trueField(w, 'temporary', e.temporary);
  w.close();
}

function writeSubscribeResult(w: JsonWriter, r: SubscribeResult): void {
  w.open();
  trueField(w, 'expires', r.expires);
  numField(w, 'ttl', r.ttl);
  trueField(w, 'recoverable', r.recoverable);
  strField(w, 'epoch', r.epoch);
  if (r.publications !== undefined && r.publications.length > 0) {
    w.field('publications');
    writePublications(w, r.publications);
  }
  trueField(w, 'recovered', r.recovered);
  numField(w, 'offset', r.offset);
  trueField(w, 'positioned', r.positioned);
  rawField(w, 'data', r.data);
  trueField(w, 'was_recovering', r.was_recovering);
  trueField(w, 'delta', r.delta);
  numField(w, 'type', r.type);
  numField(w, 'phase', r.phase);
  strField(w, 'cursor', r.cursor);
  if (r.state !== undefined && r.state.length > 0) {
    w.field('state');
    writePublications(w, r.state);
  }
  numField(w, 'publish_debounce', r.publish_debounce);
  w.close();
}

function writeSubs(w: JsonWriter, subs: Record<string, SubscribeResult> | undefined): void {
  if (!hasKeys(subs)) return;
  w.field('subs');
  w.open();
  for (const k of Object.keys(subs)) {
    const s = subs[k];
    if (s === undefined) continue;
    w.key(k);
    writeSubscribeResult(w, s);
  }
  w.close();
}

/** `asPush`: the Connect push message orders `data`/`subs` before `expires`/`ttl`. */
function writeConnect(w: JsonWriter, r: ConnectResult, asPush: boolean): void {
  w.open();
  strField(w, 'client', r.client);
  strField(w, 'version', r.version);
  if (asPush) {
    rawField(w, 'data', r.data);
    writeSubs(w, r.subs);
  }
  trueField(w, 'expires', r.expires);
  numField(w, 'ttl', r.ttl);
  if (!asPush) {
    rawField(w, 'data', r.data);
    writeSubs(w, r.subs);
  }
  numField(w, 'ping', r.ping);
  trueField(w, 'pong', r.pong);
  strField(w, 'session', r.session);
  strField(w, 'node', r.node);
  numField(w, 'time', r.time);
  w.close();
}

function writeExpiresTtl(w: JsonWriter, r: { expires?: boolean; ttl?: number }): void {
  trueField(w, 'expires', r.expires);
  numField(w, 'ttl', r.ttl);
}

/** A Push object (the value of Reply.push, or a bare push on unidirectional transports). */
export function writePush(w: JsonWriter, push: Push): void {
  w.open();
  strField(w, 'channel', push.channel);
  if ('pub' in push) {
    w.field('pub');
    writePublication(w, push.pub);
  } else if ('join' in push) {
    w.field('join');
    w.open();
    w.field('info');
    writeClientInfo(w, push.join.info);
    w.close();
  } else if ('leave' in push) {
    w.field('leave');
    w.open();
    w.field('info');
    writeClientInfo(w, push.leave.info);
    w.close();
  } else if ('unsubscribe' in push) {
    w.field('unsubscribe');
    w.open();
    numField(w, 'code', push.unsubscribe.code);
    strField(w, 'reason', push.unsubscribe.reason);
    w.close();
  } else if ('message' in push) {
    w.field('message');
    w.open();
    rawField(w, 'data', push.message.data);
    w.close();
  } else if ('subscribe' in push) {
    const s = push.subscribe;
    w.field('subscribe');
    w.open();
    trueField(w, 'recoverable', s.recoverable);
    strField(w, 'epoch', s.epoch);
    numField(w, 'offset', s.offset);
    trueField(w, 'positioned', s.positioned);
    rawField(w, 'data', s.data);
    w.close();
  } else if ('connect' in push) {
    w.field('connect');
    writeConnect(w, push.connect, true);
  } else if ('disconnect' in push) {
    w.field('disconnect');
    w.open();
    numField(w, 'code', push.disconnect.code);
    strField(w, 'reason', push.disconnect.reason);
    w.close();
  } else if ('refresh' in push) {
    w.field('refresh');
    w.open();
    writeExpiresTtl(w, push.refresh);
    w.close();
  }
  w.close();
}

function writePresence(w: JsonWriter, presence: Record<string, ClientInfo>): void {
  w.open();
  if (presence !== undefined && presence !== null) {
    for (const k of Object.keys(presence)) {
      const info = presence[k];
      if (info === undefined) continue;
      w.key(k);
      writeClientInfo(w, info);
    }
  }
  w.close();
}

export function writeReply(w: JsonWriter, reply: Reply): void {
  w.open();
  numField(w, 'id', reply.id);
  if ('error' in reply) {
    w.field('error');
    writeError(w, reply.error);
  } else if ('connect' in reply) {
    w.field('connect');
    writeConnect(w, reply.connect, false);
  } else if ('subscribe' in reply) {
    w.field('subscribe');
    writeSubscribeResult(w, reply.subscribe);
  } else if ('unsubscribe' in reply) {
    w.field('unsubscribe');
    w.ascii('{}');
  } else if ('publish' in reply) {
    w.field('publish');
    w.ascii('{}');
  } else if ('presence' in reply) {
    w.field('presence');
    w.open();
    w.field('presence');
    writePresence(w, reply.presence.presence);
    w.close();
  } else if ('presence_stats' in reply) {
    w.field('presence_stats');
    w.open();
    w.field('num_clients');
    w.num(reply.presence_stats.num_clients ?? 0);
    w.field('num_users');
    w.num(reply.presence_stats.num_users ?? 0);
    w.close();
  } else if ('history' in reply) {
    const h = reply.history;
    w.field('history');
    w.open();
    w.field('publications');
    writePublications(w, h.publications ?? []);
    w.field('epoch');
    w.str(h.epoch ?? '');
    w.field('offset');
    w.num(h.offset ?? 0);
    w.close();
  } else if ('rpc' in reply) {
    w.field('rpc');
    w.open();
    rawField(w, 'data', reply.rpc.data);
    w.close();
  } else if ('refresh' in reply) {
    const r = reply.refresh;
    w.field('refresh');
    w.open();
    strField(w, 'client', r.client);
    strField(w, 'version', r.version);
    writeExpiresTtl(w, r);
    w.close();
  } else if ('sub_refresh' in reply) {
    const r = reply.sub_refresh;
    w.field('sub_refresh');
    w.open();
    writeExpiresTtl(w, r);
    if (r.items !== undefined && r.items.length > 0) {
      w.field('items');
      writePublications(w, r.items);
    }
    w.close();
  }
  w.close();
}
