// Waits for a centrifuge-js subscription to settle: `subscribed` or `unsubscribed` (with its code/reason).
import type { Subscription, SubscribedContext, UnsubscribedContext, SubscriptionErrorContext } from 'centrifuge';
import { withTimeout } from '../harness/wait.js';

export type Outcome =
  | { kind: 'subscribed'; ctx: SubscribedContext; errors: SubscriptionErrorContext[] }
  | { kind: 'unsubscribed'; ctx: UnsubscribedContext; errors: SubscriptionErrorContext[] };

/** Calls sub.subscribe() and resolves with the first terminal outcome. */
export function subscribeOutcome(sub: Subscription, ms = 10_000): Promise<Outcome> {
  const errors: SubscriptionErrorContext[] = [];
  const onError = (ctx: SubscriptionErrorContext): void => {
    errors.push(ctx);
  };
  sub.on('error', onError);
  let onSub: ((ctx: SubscribedContext) => void) | undefined;
  let onUnsub: ((ctx: UnsubscribedContext) => void) | undefined;
  const p = new Promise<Outcome>((resolve) => {
    onSub = (ctx) => resolve({ kind: 'subscribed', ctx, errors });
    onUnsub = (ctx) => resolve({ kind: 'unsubscribed', ctx, errors });
    sub.once('subscribed', onSub);
    sub.once('unsubscribed', onUnsub);
  });
  sub.subscribe();
  return withTimeout(p, ms, `subscription outcome of ${sub.channel}`).finally(() => {
    sub.off('error', onError);
    if (onSub !== undefined) sub.off('subscribed', onSub);
    if (onUnsub !== undefined) sub.off('unsubscribed', onUnsub);
  });
}
