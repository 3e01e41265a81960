// Codec-neutral results of the map subscription methods (JSON: result-json.ts; GRPC: grpc/api-codec.ts), named
// and shaped as Centrifugo's api.proto (MapPublishResult, MapReadStateResult with MapEntry, …).
export type MapUpdateResultOut = {
  offset?: number | undefined;
  epoch?: string | undefined;
  suppressed?: boolean | undefined;
  suppress_reason?: string | undefined;
};
export type MapEntryOut = {
  key: string;
  data?: Uint8Array | undefined;
  tags?: Record<string, string> | undefined;
  offset?: number | undefined;
  removed?: boolean | undefined;
  /** ms when the entry (change) was written. */
  time?: number | undefined;
};
export type MapReadResultOut = {
  entries: MapEntryOut[];
  offset?: number | undefined;
  epoch?: string | undefined;
  cursor?: string | undefined;
};

export type MapOutcome =
  | { method: 'map_publish' | 'map_remove'; result: MapUpdateResultOut }
  | { method: 'map_read_state' | 'map_read_stream'; result: MapReadResultOut }
  | { method: 'map_stats'; result: { num_keys?: number | undefined } }
  | { method: 'map_clear'; result: Record<string, never> };
