// API results as JSON values for the HTTP API (docs/protocol.md §6.1): payload bytes become raw JSON, or a
// base64 string (`b64data` for a publication) when they are not JSON text (docs/payloads.md).
import { errorBody } from './errors.js';
import { rawField, rawOrBase64 } from './json.js';
import type { JsonObject, JsonOut } from './json.js';
import type { MapOutcome } from './map-results.js';
import type { ApiOutcome, BatchOutcome, ClientInfoOut, PublicationOut } from './results.js';

function clientInfoJson(ci: ClientInfoOut): JsonObject {
  return {
    user: ci.user,
    client: ci.client,
    conn_info: ci.conn_info !== undefined && ci.conn_info.byteLength > 0 ? rawField(ci.conn_info) : undefined,
    chan_info: ci.chan_info !== undefined && ci.chan_info.byteLength > 0 ? rawField(ci.chan_info) : undefined,
  };
}

function publicationJson(pub: PublicationOut): JsonObject {
  const d = rawOrBase64(pub.data);
  return {
    data: 'raw' in d ? d.raw : undefined,
    b64data: 'b64' in d ? d.b64 : undefined,
    info: pub.info !== undefined ? clientInfoJson(pub.info) : undefined,
    offset: pub.offset,
    tags: pub.tags,
  };
}

/** The `result` object of one command. */
export function resultJson(o: ApiOutcome): JsonObject {
  switch (o.method) {
    case 'presence': {
      const presence: Record<string, JsonOut> = {};
      for (const [id, ci] of Object.entries(o.result.presence)) presence[id] = clientInfoJson(ci);
      return { presence };
    }
    case 'history':
      return { publications: o.result.publications.map(publicationJson), epoch: o.result.epoch, offset: o.result.offset };
    case 'broadcast':
      return { responses: o.result.responses.map((r) => ({ error: r.error, result: r.result })) };
    case 'publish':
    case 'presence_stats':
    case 'channels':
    case 'info':
    case 'subscribe':
    case 'unsubscribe':
    case 'disconnect':
    case 'refresh':
    case 'history_remove':
    case 'rpc':
    case 'shared_poll_publish':
      // These results carry no payload bytes: they are JSON values as they are.
      return o.result;
    case 'map_publish':
    case 'map_remove':
    case 'map_read_state':
    case 'map_read_stream':
    case 'map_stats':
    case 'map_clear':
      return mapResultJson(o);
  }
}

/** Map method results: entries' data as raw JSON (or b64data), empty lists left out as Centrifugo does. */
function mapResultJson(o: MapOutcome): JsonObject {
  switch (o.method) {
    case 'map_publish':
    case 'map_remove':
    case 'map_stats':
    case 'map_clear':
      return o.result;
    case 'map_read_state':
    case 'map_read_stream':
      break;
  }
  const entries = o.result.entries.map((e): JsonObject => {
    const d = e.data !== undefined ? rawOrBase64(e.data) : undefined;
    return {
      key: e.key,
      data: d !== undefined && 'raw' in d ? d.raw : undefined,
      b64data: d !== undefined && 'b64' in d ? d.b64 : undefined,
      tags: e.tags,
      offset: e.offset,
      removed: e.removed,
      time: e.time,
    };
  });
  return { entries: entries.length > 0 ? entries : undefined, offset: o.result.offset, epoch: o.result.epoch, cursor: o.result.cursor };
}

/** One batch reply: `{"<method>":result}` or `{"error":…}`. */
export function batchReplyJson(o: BatchOutcome): JsonObject {
  return o.method === 'error' ? { error: errorBody(o.error) } : { [o.method]: resultJson(o) };
}
