// Runs the map subscription methods of the server API on the node's MapApi (core/map/api.ts).
import type { MapKeyMode, MapStreamReadResult, MapUpdateResult } from '../engines/map-types.js';
import type { NodeApi } from '../core/types.js';
import type { Publication } from '../protocol/types.js';
import { ApiErrors } from './errors.js';
import type { MapEntryOut, MapOutcome, MapReadResultOut, MapUpdateResultOut } from './map-results.js';
import type { MapApiCommand } from './map-schemas.js';

const KEY_MODES: ReadonlySet<string> = new Set(['', 'if_new', 'if_exists']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function updateOut(r: MapUpdateResult): MapUpdateResultOut {
  return {
    offset: r.position.offset > 0 ? r.position.offset : undefined,
    epoch: r.position.epoch !== '' ? r.position.epoch : undefined,
    suppressed: r.suppressed ? true : undefined,
    suppress_reason: r.suppressReason !== '' ? r.suppressReason : undefined,
  };
}

function entryOut(p: Publication, time: number | undefined): MapEntryOut {
  return {
    key: p.key ?? '',
    data: p.data.byteLength > 0 ? p.data : undefined,
    tags: p.tags !== undefined && Object.keys(p.tags).length > 0 ? p.tags : undefined,
    offset: p.offset !== undefined && p.offset > 0 ? p.offset : undefined,
    removed: p.removed === true ? true : undefined,
    time: time !== undefined && time > 0 ? time : undefined,
  };
}

/** Entries and position of a state or stream read. */
function readOut(res: MapStreamReadResult): MapReadResultOut {
  return {
    entries: res.publications.map((p, i) => entryOut(p, res.times[i])),
    offset: res.position.offset > 0 ? res.position.offset : undefined,
    epoch: res.position.epoch !== '' ? res.position.epoch : undefined,
  };
}

function position(offset: number, epoch: string): { offset: number; epoch: string } | undefined {
  return offset > 0 || epoch !== '' ? { offset, epoch } : undefined;
}

export async function executeMap(node: NodeApi, cmd: MapApiCommand): Promise<MapOutcome> {
  const api = node.map;
  if (api === undefined) throw ApiErrors.notAvailable();
  switch (cmd.method) {
    case 'map_publish': {
      const r = cmd.req;
      if (!KEY_MODES.has(r.key_mode)) throw ApiErrors.badRequest();
      let data = r.data ?? new Uint8Array(0);
      if (r.b64data !== undefined && r.b64data !== '') {
        if (!BASE64.test(r.b64data)) throw ApiErrors.badRequest();
        data = Buffer.from(r.b64data, 'base64');
      }
      const res = await api.publish(r.channel, r.key, {
        data,
        ...(r.tags !== undefined ? { tags: r.tags } : {}),
        ...(r.idempotency_key !== '' ? { idempotencyKey: r.idempotency_key } : {}),
        delta: r.delta,
        ...(r.version > 0 ? { version: r.version, versionEpoch: r.version_epoch } : {}),
        keyMode: r.key_mode as MapKeyMode,
      });
      return { method: cmd.method, result: updateOut(res) };
    }
    case 'map_remove': {
      const r = cmd.req;
      const res = await api.remove(r.channel, r.key, r.idempotency_key !== '' ? r.idempotency_key : undefined);
      return { method: cmd.method, result: updateOut(res) };
    }
    case 'map_read_state': {
      const r = cmd.req;
      const revision = position(r.revision_offset, r.revision_epoch);
      const res = await api.readState(r.channel, { cursor: r.cursor, limit: r.limit, key: r.key, ...(revision !== undefined ? { revision } : {}) });
      return { method: cmd.method, result: { ...readOut(res), cursor: res.cursor !== '' ? res.cursor : undefined } };
    }
    case 'map_read_stream': {
      const r = cmd.req;
      const since = position(r.since_offset, r.since_epoch);
      const res = await api.readStream(r.channel, { limit: r.limit, reverse: r.reverse, ...(since !== undefined ? { since } : {}) });
      return { method: cmd.method, result: readOut(res) };
    }
    case 'map_stats': {
      const s = await api.stats(cmd.req.channel);
      return { method: cmd.method, result: { num_keys: s.numKeys > 0 ? s.numKeys : undefined } };
    }
    case 'map_clear':
      await api.clear(cmd.req.channel);
      return { method: cmd.method, result: {} };
  }
}
