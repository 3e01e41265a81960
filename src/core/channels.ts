// Channel name parsing (private prefix, namespace, user boundary; docs/protocol.md §4.1–4.3) and a bounded cache
// of resolved channels, so the namespace lookup is done once per channel name, not once per command.
import type { ChannelConfig, ChannelOptions } from '../config/types.js';
import { Errors } from '../protocol/errors.js';
import { goRegExp } from '../util/go-regex.js';

export interface ResolvedChannel {
  channel: string;
  /** '' = channel.without_namespace. */
  namespace: string;
  /** The part after `<namespace><boundary>` (the whole name without the private prefix when no namespace). */
  rest: string;
  options: Readonly<ChannelOptions>;
  /** Starts with channel.private_prefix. */
  isPrivate: boolean;
  /** Users allowed by a user-limited channel (allow_user_limited_channels on and the user boundary present). */
  allowedUsers?: readonly string[];
  /** history_size > 0 and history_ttl > 0. */
  hasHistory: boolean;
  /** options.history_meta_ttl, or channel.history_meta_ttl when that is 0 (ms). */
  historyMetaTtlMs: number;
}

const DEFAULT_CACHE_SIZE = 16_384;
// The range starts at NUL on purpose: this tests "every code unit is ASCII", control characters included.
// eslint-disable-next-line no-control-regex
const ASCII_ONLY = /^[\x00-\x7f]*$/;

export class ChannelResolver {
  private readonly namespaces = new Map<string, Readonly<ChannelOptions>>();
  /** Compiled channel_regex per namespace name ('' = without_namespace). */
  private readonly regexes = new Map<string, RegExp>();
  private readonly cache = new Map<string, ResolvedChannel>();

  constructor(
    private readonly cfg: Readonly<ChannelConfig>,
    private readonly cacheSize = DEFAULT_CACHE_SIZE,
  ) {
    this.addRegex('', cfg.without_namespace);
    for (const ns of cfg.namespaces) {
      this.namespaces.set(ns.name, ns);
      this.addRegex(ns.name, ns);
    }
  }

  /** Resolves a channel name; throws ProtocolError 102 when its namespace is not configured. */
  resolve(channel: string): ResolvedChannel {
    const hit = this.cache.get(channel);
    if (hit !== undefined) return hit;
    const r = this.build(channel);
    if (this.cache.size >= this.cacheSize) {
      // Evict the oldest insertion (FIFO): cheap, and hot channels are re-inserted on their next miss.
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(channel, r);
    return r;
  }

  /**
   * Throws ProtocolError 107 when the name is longer than channel.max_length bytes, or the rest does not
   * match the namespace's channel_regex, or (without a regex) the name is not pure ASCII.
   */
  validateName(r: ResolvedChannel): void {
    const max = this.cfg.max_length;
    if (max > 0 && utf8Length(r.channel) > max) throw Errors.badRequest();
    const re = this.regexes.get(r.namespace);
    if (re !== undefined) {
      if (!re.test(r.rest)) throw Errors.badRequest();
    } else if (!ASCII_ONLY.test(r.channel)) {
      throw Errors.badRequest();
    }
  }

  /** Number of cached entries (tests). */
  get cachedCount(): number {
    return this.cache.size;
  }

  private build(channel: string): ResolvedChannel {
    const { private_prefix: prefix, namespace_boundary: nsb } = this.cfg;
    const isPrivate = prefix !== '' && channel.startsWith(prefix);
    const name = isPrivate ? channel.slice(prefix.length) : channel;
    let namespace = '';
    let rest = name;
    if (nsb !== '') {
      const idx = name.indexOf(nsb);
      if (idx >= 0) {
        namespace = name.slice(0, idx);
        rest = name.slice(idx + nsb.length);
      }
    }
    let options: Readonly<ChannelOptions>;
    if (namespace === '') options = this.cfg.without_namespace;
    else {
      const found = this.namespaces.get(namespace);
      if (found === undefined) throw Errors.unknownChannel();
      options = found;
    }
    const r: ResolvedChannel = {
      channel,
      namespace,
      rest,
      options,
      isPrivate,
      hasHistory: options.history_size > 0 && options.history_ttl > 0,
      historyMetaTtlMs: options.history_meta_ttl > 0 ? options.history_meta_ttl : this.cfg.history_meta_ttl,
    };
    const ub = this.cfg.user_boundary;
    if (options.allow_user_limited_channels && ub !== '') {
      const idx = channel.lastIndexOf(ub);
      if (idx >= 0) {
        const users = channel.slice(idx + ub.length);
        r.allowedUsers = Object.freeze(this.cfg.user_separator === '' ? [users] : users.split(this.cfg.user_separator));
      }
    }
    return Object.freeze(r);
  }

  private addRegex(ns: string, o: Readonly<ChannelOptions>): void {
    // Config validation already rejected invalid patterns; Go RE2 syntax is close enough to JS for them.
    if (o.channel_regex !== '') this.regexes.set(ns, goRegExp(o.channel_regex));
  }
}

/** UTF-8 byte length without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
