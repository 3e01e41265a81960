// Surveys in flight: a question sent to every live node (or one), answered by SurveyResponse commands carrying
// the survey id. A survey completes when every node it waits for answered or left the cluster, or at its timeout
// (then `complete` is false and the answers so far are returned).
export interface SurveyAnswer {
  code: number;
  data: Uint8Array;
}

export interface SurveyOutcome {
  /** node id → answer. */
  answers: Map<string, SurveyAnswer>;
  /** False when the timeout struck before every awaited node answered. */
  complete: boolean;
}

interface Pending {
  waiting: Set<string>;
  answers: Map<string, SurveyAnswer>;
  timer: NodeJS.Timeout;
  resolve(o: SurveyOutcome): void;
}

export class SurveyTracker {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** Registers a survey awaiting `nodes`; returns its id and the outcome. */
  begin(nodes: Iterable<string>, timeoutMs: number): { id: number; outcome: Promise<SurveyOutcome> } {
    const id = ++this.nextId;
    let resolveFn: (o: SurveyOutcome) => void = () => undefined;
    const outcome = new Promise<SurveyOutcome>((r) => (resolveFn = r));
    const p: Pending = {
      waiting: new Set(nodes),
      answers: new Map(),
      timer: setTimeout(() => this.finish(id, false), timeoutMs),
      resolve: resolveFn,
    };
    this.pending.set(id, p);
    if (p.waiting.size === 0) this.finish(id, true);
    return { id, outcome };
  }

  /** An answer from `uid`; answers from nodes not awaited (joined meanwhile) are kept too. */
  answer(id: number, uid: string, a: SurveyAnswer): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    p.answers.set(uid, a);
    p.waiting.delete(uid);
    if (p.waiting.size === 0) this.finish(id, true);
  }

  /** A node left the cluster: no survey waits for it any more. */
  nodeGone(uid: string): void {
    for (const [id, p] of this.pending) {
      if (p.waiting.delete(uid) && p.waiting.size === 0) this.finish(id, true);
    }
  }

  /** Ends every survey now (shutdown). */
  close(): void {
    for (const id of [...this.pending.keys()]) this.finish(id, false);
  }

  private finish(id: number, complete: boolean): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ answers: p.answers, complete });
  }
}
