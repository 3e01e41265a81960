// The clock shared by every thread of the generator: epoch milliseconds with a sub-millisecond fraction.
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
