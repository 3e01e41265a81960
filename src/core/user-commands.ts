// What a user-targeted control command does to this node's connections: disconnect, unsubscribe, server-side
// subscribe, refresh. The same code runs for a command this node's API sent (applied locally) and for one that
// came from another node over the bus, so one node and many behave alike.
import { Disconnect, ProtocolError, Unsubscribe } from '../protocol/errors.js';
import { DisconnectCode } from '../protocol/codes.js';
import type { CoreContext } from './context.js';
import type { ControlTarget, DisconnectBody, RefreshBody, SubscribeBody, UnsubscribeBody } from './control/messages.js';
import type { UserCommand } from './control/plane.js';
import type { Session } from './session.js';
import { SessionState } from './session-state.js';
import { establish, isSubscriptionGone } from './subscribe-flow.js';
import { ttlSeconds } from './commands/common.js';

/** Connected sessions the target names on this node. */
export function targetSessions(ctx: CoreContext, t: ControlTarget): Session[] {
  const out: Session[] = [];
  // Label filters narrow the target by connection labels, which Gyre does not have: apply to nobody rather than
  // to more connections than asked.
  if (t.labelFilter) return out;
  // Session ids exist only for emulation and unidirectional transports; the session must also match the user
  // and client when those are given.
  if (t.session !== '') {
    const s = ctx.hub.sessionBySessionId(t.session);
    if (s === undefined || s.state !== SessionState.Connected) return out;
    if ((t.user !== '' || !t.allUsers) && s.user !== t.user) return out;
    if (t.client !== '' && s.id !== t.client) return out;
    out.push(s);
    return out;
  }
  const pool: Iterable<Session> | undefined =
    t.user === '' && t.allUsers ? ctx.hub.sessions.values() : ctx.hub.userSessions(t.user);
  if (pool === undefined) return out;
  for (const s of pool) {
    if (s.state !== SessionState.Connected) continue;
    if (t.client !== '' && s.id !== t.client) continue;
    out.push(s);
  }
  return out;
}

export function applyUserCommand(ctx: CoreContext, cmd: UserCommand): Promise<void> {
  switch (cmd.kind) {
    case 'disconnect':
      disconnect(ctx, cmd);
      return Promise.resolve();
    case 'unsubscribe':
      unsubscribe(ctx, cmd);
      return Promise.resolve();
    case 'refresh':
      refresh(ctx, cmd);
      return Promise.resolve();
    case 'subscribe':
      return subscribe(ctx, cmd);
    default: {
      const never: never = cmd;
      return Promise.reject(new Error(`unexpected user command ${String(never)}`));
    }
  }
}

function disconnect(ctx: CoreContext, cmd: DisconnectBody): void {
  const d = new Disconnect(cmd.code, cmd.reason);
  const whitelist = new Set(cmd.whitelist);
  for (const s of targetSessions(ctx, cmd)) if (!whitelist.has(s.id)) s.close(d);
}

function unsubscribe(ctx: CoreContext, cmd: UnsubscribeBody): void {
  const u = new Unsubscribe(cmd.code, cmd.reason);
  for (const s of targetSessions(ctx, cmd)) {
    if (cmd.channel === '') {
      for (const sub of [...s.subs.values()]) s.unsubscribeWith(sub, u);
    } else {
      const sub = s.subs.get(cmd.channel);
      if (sub !== undefined) s.unsubscribeWith(sub, u);
    }
  }
}

function refresh(ctx: CoreContext, cmd: RefreshBody): void {
  const nowSeconds = Math.floor(Date.now() / 1000);
  for (const s of targetSessions(ctx, cmd)) {
    if (cmd.expired) {
      s.close(Disconnect.of(DisconnectCode.Expired));
      continue;
    }
    // Centrifugo semantics: a 0 expire_at removes the expiration; a past one expires the connection; info is
    // replaced only together with a new future expiration.
    if (cmd.expireAt > 0 && cmd.expireAt <= nowSeconds) {
      s.close(Disconnect.of(DisconnectCode.Expired));
      continue;
    }
    s.expireAt = cmd.expireAt;
    if (cmd.expireAt > 0 && cmd.info !== undefined && cmd.info.byteLength > 0) s.connInfo = cmd.info;
    s.timers.armExpire();
    s.sendPush({ refresh: s.expireAt > 0 ? { expires: true, ttl: ttlSeconds(s.expireAt) } : {} }, 'refresh');
  }
}

/**
 * Server-side subscribe of every target session not yet subscribed. The channel is resolved with this node's
 * config (an unknown channel rejects with its ProtocolError); flags come from the command.
 */
async function subscribe(ctx: CoreContext, cmd: SubscribeBody): Promise<void> {
  const r = ctx.resolver.resolve(cmd.channel);
  const flags = {
    presence: cmd.presence,
    joinLeave: cmd.joinLeave,
    pushJoinLeave: cmd.pushJoinLeave,
    positioned: cmd.positioned || cmd.recoverable,
    recoverable: cmd.recoverable,
    recoveryMode: r.options.force_recovery_mode === 'cache' ? ('cache' as const) : ('stream' as const),
  };
  for (const s of targetSessions(ctx, cmd)) {
    if (s.subs.has(cmd.channel)) continue;
    try {
      const est = await establish(s, {
        r,
        serverSide: true,
        flags,
        recover: cmd.recoverSince !== undefined,
        offset: cmd.recoverSince?.offset ?? 0,
        epoch: cmd.recoverSince?.epoch ?? '',
        rejectUnrecovered: false,
        expireAt: cmd.expireAt,
        clientExpires: false,
        ...(cmd.chanInfo !== undefined ? { chanInfo: cmd.chanInfo } : {}),
        ...(cmd.data !== undefined ? { data: cmd.data } : {}),
      });
      const res = est.result;
      s.sendPush(
        {
          channel: cmd.channel,
          subscribe: {
            ...(res.recoverable === true ? { recoverable: true } : {}),
            ...(res.epoch !== undefined ? { epoch: res.epoch } : {}),
            ...(res.offset !== undefined ? { offset: res.offset } : {}),
            ...(res.positioned === true ? { positioned: true } : {}),
            ...(res.data !== undefined ? { data: res.data } : {}),
          },
        },
        'subscribe',
      );
      for (const pub of est.recovered) s.deliver(s.codec.encodePublicationPush(cmd.channel, pub));
      est.complete();
    } catch (err) {
      if (isSubscriptionGone(err)) continue;
      if (err instanceof ProtocolError && err.code === 105) continue; // subscribed meanwhile
      if (err instanceof Disconnect) {
        s.close(err);
        continue;
      }
      throw err;
    }
  }
}
