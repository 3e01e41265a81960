// Map presence (docs/map-subscriptions.md): a live subscription to a namespace with
// map_clients_presence_channel_prefix is listed in the map_clients channel <prefix><channel> under its client id
// (with its ClientInfo); with map_users_presence_channel_prefix the user is listed in <prefix><channel> under the
// user id (anonymous connections are not). Entries are written "if new" and refreshed on the presence interval;
// the client entry goes when the subscription ends, the user entry only expires (its key TTL), so quick
// reconnects don't flap. map.remove_client_on_unsubscribe also removes the key named by the client id.
import type { ChannelOptions } from '../../config/types.js';
import type { ResolvedChannel } from '../channels.js';
import type { Session } from '../session.js';
import { SubState, type Subscription } from '../subscription.js';
import { catchUpTimeoutMs, mapSettings } from './options.js';

/** The broker settings of a presence channel's namespace, or undefined when it is not a map one. */
function settingsOf(s: Session, channel: string): ReturnType<typeof mapSettings> | undefined {
  try {
    return mapSettings(s.ctx.resolver.resolve(channel).options);
  } catch {
    return undefined;
  }
}

function write(s: Session, channel: string, key: string, withInfo: boolean, sub: Subscription): Promise<void> {
  const broker = s.ctx.mapBroker;
  const settings = settingsOf(s, channel);
  if (broker === undefined || settings === undefined || key === '') return Promise.resolve();
  return broker
    .publish(channel, key, settings, {
      data: new Uint8Array(0),
      ...(withInfo ? { info: s.clientInfo(sub.chanInfo) } : {}),
      keyMode: 'if_new',
      refreshTtlOnSuppress: true,
    })
    .then(() => undefined);
}

function presenceChannels(o: Readonly<ChannelOptions>, channel: string): { clients: string; users: string } {
  const c = o.map_clients_presence_channel_prefix ?? '';
  const u = o.map_users_presence_channel_prefix ?? '';
  return { clients: c !== '' ? c + channel : '', users: u !== '' ? u + channel : '' };
}

/** Right after a map subscription went live. */
export function addMapPresence(s: Session, sub: Subscription, r: ResolvedChannel): void {
  const m = sub.map;
  if (m === undefined) return;
  const p = presenceChannels(r.options, sub.channel);
  m.clientsPresenceChannel = p.clients;
  m.usersPresenceChannel = p.users;
  refreshMapPresence(s, sub).catch((err: unknown) => s.engineError('map presence', err));
}

/** On the presence interval (and once when live): keeps the entries alive. */
export async function refreshMapPresence(s: Session, sub: Subscription): Promise<void> {
  const m = sub.map;
  if (m === undefined) return;
  if (m.clientsPresenceChannel !== '') await write(s, m.clientsPresenceChannel, s.id, true, sub);
  if (m.usersPresenceChannel !== '') await write(s, m.usersPresenceChannel, s.user, false, sub);
}

/** When a map subscription ends (unsubscribe, disconnect, server unsubscribe). */
export function removeMapPresence(s: Session, sub: Subscription): void {
  const m = sub.map;
  const broker = s.ctx.mapBroker;
  if (m === undefined || broker === undefined) return;
  const drop = (channel: string, key: string): void => {
    const settings = settingsOf(s, channel);
    if (settings === undefined) return;
    broker.remove(channel, key, settings, {}).catch((err: unknown) => s.engineError('map presence remove', err));
  };
  if (m.clientsPresenceChannel !== '') drop(m.clientsPresenceChannel, s.id);
  if (m.removeClientKey) drop(sub.channel, s.id);
}

/** The periodic tick of a session: presence refresh of live map subscriptions, expiry of abandoned subscribes. */
export function mapTick(s: Session, sub: Subscription, now: number): Promise<void> | undefined {
  const m = sub.map;
  if (m === undefined) return undefined;
  if (sub.state === SubState.Subscribing) {
    let timeout: number;
    try {
      timeout = catchUpTimeoutMs(s.ctx.resolver.resolve(sub.channel).options);
    } catch {
      timeout = 0; // namespace removed by a reload: the subscribe fails on its next command
    }
    if (timeout > 0 && now - m.startedAt > timeout && !m.busy) s.removeSubscription(sub);
    return undefined;
  }
  return refreshMapPresence(s, sub);
}
