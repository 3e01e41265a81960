// The cluster control plane of one node, over the engine's Controller (which only moves bytes). It sends this
// node's heartbeat every 3 s and keeps the registry of live nodes; it applies user-targeted commands (disconnect,
// unsubscribe, subscribe, refresh) from other nodes; it runs surveys whose answers are merged by the asker.
// Centrifuge's rules are kept: commands a node sent itself come back from the bus and are skipped, so local effects
// are applied directly by the sender, exactly once (publish to the others first, then apply here).
import type { Logger } from 'pino';
import type { Controller } from '../../engines/types.js';
import { performance } from 'node:perf_hooks';
import { metrics, parity } from '../../metrics/registry.js';
import { decodeControl, encodeControl } from './codec.js';
import type {
  ControlBody,
  DisconnectBody,
  NodeInfoMessage,
  RefreshBody,
  SubscribeBody,
  UnsubscribeBody,
} from './messages.js';
import { SurveyCode } from './messages.js';
import { NodeRegistry } from './registry.js';
import { SurveyTracker, type SurveyAnswer, type SurveyOutcome } from './survey.js';

/** Commands that act on users' connections. */
export type UserCommand = DisconnectBody | UnsubscribeBody | SubscribeBody | RefreshBody;

/** What the node does for the control plane. */
export interface ControlHandlers {
  /** This node's heartbeat, with its counts now. */
  nodeInfo(): NodeInfoMessage;
  /** Applies a user-targeted command to this node's connections. */
  apply(cmd: UserCommand): Promise<void>;
  /** Answers a survey op on this node (unknown op: SurveyCode.MethodNotFound). */
  survey(op: string, data: Uint8Array): Promise<SurveyAnswer>;
}

export interface ControlPlaneOptions {
  uid: string;
  controller: Controller;
  handlers: ControlHandlers;
  logger: Logger;
  /** Heartbeat period (centrifuge's node info publish interval: 3 s). */
  heartbeatMs?: number;
  /** Silence after which a node is gone (centrifuge: 2 × heartbeat + 1 s = 7 s). */
  maxDelayMs?: number;
  /** How often silent nodes are looked for (centrifuge: every 9 s; 1 s here, so a dead node goes within ~8 s). */
  cleanIntervalMs?: number;
  /** Survey timeout (centrifuge's default: 10 s). */
  surveyTimeoutMs?: number;
  now?: () => number;
}

const CONTROL_LABELS = { type: 'control', channel_namespace: '' } as const;

export class ControlPlane {
  readonly uid: string;
  readonly registry: NodeRegistry;
  private readonly controller: Controller;
  private readonly handlers: ControlHandlers;
  private readonly logger: Logger;
  private readonly heartbeatMs: number;
  private readonly cleanIntervalMs: number;
  private readonly surveyTimeoutMs: number;
  private readonly now: () => number;
  private readonly surveys = new SurveyTracker();
  private heartbeatTimer: NodeJS.Timeout | undefined = undefined;
  private cleanTimer: NodeJS.Timeout | undefined = undefined;
  private started = false;
  private leaving = false;

  constructor(opts: ControlPlaneOptions) {
    this.uid = opts.uid;
    this.controller = opts.controller;
    this.handlers = opts.handlers;
    this.logger = opts.logger;
    this.heartbeatMs = opts.heartbeatMs ?? 3000;
    this.cleanIntervalMs = opts.cleanIntervalMs ?? 1000;
    this.surveyTimeoutMs = opts.surveyTimeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.registry = new NodeRegistry(this.uid, opts.maxDelayMs ?? 7000);
  }

  /** Starts the controller, announces this node and starts the heartbeat and clean-up timers. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.controller.start(this.uid, (data) => this.onData(data));
    await this.heartbeat();
    if (this.heartbeatMs > 0) {
      this.heartbeatTimer = setInterval(() => {
        this.heartbeat().catch((err: unknown) => this.logger.warn({ err }, 'control: heartbeat not sent'));
      }, this.heartbeatMs);
      this.heartbeatTimer.unref();
    }
    if (this.cleanIntervalMs > 0) {
      this.cleanTimer = setInterval(() => this.sweep(), this.cleanIntervalMs);
      this.cleanTimer.unref();
    }
  }

  /** Registers this node's current info and sends it to every node (or to one that just appeared). */
  heartbeat(toNodeId?: string): Promise<void> {
    if (this.leaving) return Promise.resolve();
    const info = this.handlers.nodeInfo();
    this.registry.add(info, this.now());
    return this.publish({ kind: 'node', node: info }, toNodeId);
  }

  /** Drops nodes silent for too long (the timer calls it; tests may too). */
  sweep(): void {
    for (const uid of this.registry.clean(this.now())) {
      this.logger.info({ node: uid }, 'control: node gone (no heartbeat)');
      this.surveys.nodeGone(uid);
    }
  }

  /** Live nodes (this one included), as their last heartbeat described them. */
  nodes(): NodeInfoMessage[] {
    return this.registry.list();
  }

  /**
   * A user-targeted command for the whole cluster: sent to the other nodes first, then applied here. Rejects when
   * the bus refuses the message or the local effect fails; the other nodes log their own failures.
   */
  async broadcast(cmd: UserCommand): Promise<void> {
    await this.publish(cmd);
    await this.handlers.apply(cmd);
  }

  /**
   * Asks every live node (this one answers directly, without the bus) or one node, and waits for the answers until
   * each awaited node answered or left, or the survey timeout.
   */
  async survey(op: string, data: Uint8Array, toNodeId?: string): Promise<SurveyOutcome> {
    const targets = toNodeId !== undefined && toNodeId !== '' ? [toNodeId] : this.registry.ids();
    const others = targets.filter((uid) => uid !== this.uid);
    const { id, outcome } = this.surveys.begin(targets, this.surveyTimeoutMs);
    const started = performance.now();
    void outcome.then(() => observeSurvey(op, (performance.now() - started) / 1000));
    if (targets.includes(this.uid)) {
      this.surveys.answer(id, this.uid, await this.answerSurvey(op, data));
    }
    if (others.length > 0) {
      try {
        await this.publish({ kind: 'survey_request', id, op, data }, toNodeId);
      } catch (err) {
        for (const uid of others) this.surveys.nodeGone(uid);
        throw err;
      }
    }
    return outcome;
  }

  /**
   * Tells the cluster this node leaves, stops the heartbeat and ends pending surveys. Commands from other nodes are
   * still applied until the engine's controller closes (sessions draining here can still be disconnected).
   * Idempotent.
   */
  async close(): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.cleanTimer);
    this.surveys.close();
    if (!this.started) return;
    try {
      await this.publish({ kind: 'shutdown' });
    } catch (err) {
      this.logger.warn({ err }, 'control: shutdown message not sent');
    }
  }

  private publish(body: ControlBody, toNodeId?: string): Promise<void> {
    const bytes = encodeControl({ uid: this.uid, body });
    metrics.messagesSent.inc(CONTROL_LABELS);
    return this.controller.publishControl(bytes, toNodeId);
  }

  private async answerSurvey(op: string, data: Uint8Array): Promise<SurveyAnswer> {
    try {
      return await this.handlers.survey(op, data);
    } catch (err) {
      this.logger.error({ err, op }, 'control: survey handler failed');
      return { code: SurveyCode.InternalError, data: new Uint8Array(0) };
    }
  }

  /** One message from the bus. Never throws. */
  private onData(data: Uint8Array): void {
    metrics.messagesReceived.inc(CONTROL_LABELS);
    const decoded = decodeControl(data);
    if (!decoded.ok) {
      this.logger.warn({ error: decoded.error }, 'control: undecodable message dropped');
      return;
    }
    const { uid, body } = decoded.cmd;
    if (uid === this.uid) return; // our own message, already applied here
    try {
      this.handle(uid, body);
    } catch (err) {
      this.logger.error({ err, from: uid, kind: body.kind }, 'control: message handling failed');
    }
  }

  private handle(from: string, body: ControlBody): void {
    switch (body.kind) {
      case 'node': {
        const isNew = this.registry.add(body.node, this.now());
        if (isNew && !this.leaving) {
          this.logger.info({ node: body.node.uid, name: body.node.name }, 'control: node joined');
          // Introduce ourselves at once instead of after up to one heartbeat period.
          this.heartbeat(body.node.uid).catch((err: unknown) => this.logger.warn({ err }, 'control: heartbeat not sent'));
        }
        return;
      }
      case 'shutdown':
        if (this.registry.remove(from)) this.logger.info({ node: from }, 'control: node left');
        this.surveys.nodeGone(from);
        return;
      case 'disconnect':
      case 'unsubscribe':
      case 'subscribe':
      case 'refresh':
        this.handlers.apply(body).catch((err: unknown) => {
          this.logger.warn({ err, from, kind: body.kind, user: body.user }, 'control: command from another node failed here');
        });
        return;
      case 'survey_request': {
        const { id, op, data } = body;
        void this.answerSurvey(op, data).then((a) =>
          this.publish({ kind: 'survey_response', id, code: a.code, data: a.data }, from).catch((err: unknown) =>
            this.logger.warn({ err, to: from }, 'control: survey answer not sent'),
          ),
        );
        return;
      }
      case 'survey_response':
        this.surveys.answer(body.id, from, { code: body.code, data: body.data });
        return;
      case 'notification':
      case 'unknown':
        return;
      default: {
        const never: never = body;
        throw new Error(`unexpected control body ${String(never)}`);
      }
    }
  }
}

/** Centrifugo's survey duration, both as the (deprecated there) summary and the histogram, labelled by op. */
function observeSurvey(op: string, seconds: number): void {
  parity.surveyDurationSummary.observe({ op }, seconds);
  parity.surveyDuration.observe({ op }, seconds);
}
