// Redis key and PUB/SUB channel names, exactly as centrifuge's Redis broker and presence manager name them, so
// a Gyre node and a Centrifugo node sharing a Redis see the same streams, presence sets and channels. On a
// Redis Cluster the channel part is wrapped in a `{...}` hash tag: every key of one channel lands in one slot,
// which the Lua scripts need.

export interface KeyNames {
  /** History stream of a channel (`<prefix>.stream.<ch>`). */
  stream(channel: string): string;
  /** Stream meta hash: `e` epoch, `s` top offset (`<prefix>.stream.meta.<ch>`). */
  streamMeta(channel: string): string;
  /** Idempotent publish result hash (`<prefix>.result.<ch>.<key>`). */
  result(channel: string, idempotencyKey: string): string;
  /** PUB/SUB channel carrying publications, joins and leaves (`<prefix>.client.<ch>`). */
  pubsub(channel: string): string;
  /** Presence hash: client id → ClientInfo protobuf. */
  presenceData(channel: string): string;
  /** Presence expiry zset: client id scored by expiry time (unix seconds). */
  presenceExpire(channel: string): string;
  /** Per-user expiry zset (presence user mapping). */
  presenceUserExpire(channel: string): string;
  /** Per-user connection counts (presence user mapping). */
  presenceUserClients(channel: string): string;
  /** Cluster-wide control channel. */
  readonly control: string;
  /** Control channel of one node. */
  node(nodeId: string): string;
  /** The channel every PUB/SUB connection subscribes first (centrifuge's `<prefix>.shard.0`). */
  readonly shardChannel: string;
  /** Inverse of `pubsub`: the Gyre channel of a PUB/SUB channel name, or undefined when it is not one. */
  channelOf(pubsubChannel: string): string | undefined;
}

export function keyNames(prefix: string, cluster: boolean): KeyNames {
  const tag = cluster ? (ch: string): string => `{${ch}}` : (ch: string): string => ch;
  const clientPrefix = `${prefix}.client.`;
  return {
    stream: (ch) => `${prefix}.stream.${tag(ch)}`,
    streamMeta: (ch) => `${prefix}.stream.meta.${tag(ch)}`,
    result: cluster ? (ch, k) => `${prefix}.result.{${ch}}.${k}` : (ch, k) => `${prefix}.result.${ch}.${k}`,
    pubsub: (ch) => clientPrefix + tag(ch),
    presenceData: (ch) => `${prefix}.presence.data.${tag(ch)}`,
    presenceExpire: (ch) => `${prefix}.presence.expire.${tag(ch)}`,
    presenceUserExpire: (ch) => `${prefix}.presence.user.expire.${tag(ch)}`,
    presenceUserClients: (ch) => `${prefix}.presence.user.clients.${tag(ch)}`,
    control: `${prefix}.control`,
    node: (id) => `${prefix}.node.${id}`,
    shardChannel: `${prefix}.shard.0`,
    channelOf(name: string): string | undefined {
      if (!name.startsWith(clientPrefix)) return undefined;
      const rest = name.slice(clientPrefix.length);
      if (!cluster) return rest;
      if (rest.length < 2 || rest[0] !== '{' || rest[rest.length - 1] !== '}') return undefined;
      return rest.slice(1, -1);
    },
  };
}
