// Label children cached per label value: one Map level per varying label, the factory given once. A lookup costs
// one or two Map gets on strings V8 has already hashed, with no key string built and no closure made per call
// (bench/label-cache.bench.ts measured it against a Map keyed by the joined label values).
// A child is whatever the caller keeps per label set: a prom-client child (histograms, summaries) or the key and
// label object a batched counter takes (./batched.ts). prom-client's reset() keeps children usable, so the caches
// live for the process.

/** Children by one label value. */
export class Children1<C, A = string> {
  private readonly byA = new Map<A, C>();

  constructor(private readonly make: (a: A) => C) {}

  get(a: A): C {
    let c = this.byA.get(a);
    if (c === undefined) {
      c = this.make(a);
      this.byA.set(a, c);
    }
    return c;
  }
}

/** Children by two label values, the first one's Map holding one Map per value of the second. */
export class Children2<C, A = string, B = string> {
  private readonly byA = new Map<A, Map<B, C>>();

  constructor(private readonly make: (a: A, b: B) => C) {}

  get(a: A, b: B): C {
    let byB = this.byA.get(a);
    if (byB === undefined) {
      byB = new Map();
      this.byA.set(a, byB);
    }
    let c = byB.get(b);
    if (c === undefined) {
      c = this.make(a, b);
      byB.set(b, c);
    }
    return c;
  }
}

/** Children by three label values (a Map per value of the first two). */
export class Children3<C> {
  private readonly byA = new Map<string, Children2<C>>();

  constructor(private readonly make: (a: string, b: string, c: string) => C) {}

  get(a: string, b: string, c: string): C {
    let byBC = this.byA.get(a);
    if (byBC === undefined) {
      byBC = new Children2((b2, c2) => this.make(a, b2, c2));
      this.byA.set(a, byBC);
    }
    return byBC.get(b, c);
  }
}

/** The key and label object a batched metric takes for one label set (./batched.ts). */
export interface BatchedLabels<L> {
  readonly key: string;
  readonly labels: L;
}
