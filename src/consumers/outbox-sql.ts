// The SQL of the PostgreSQL outbox consumer (./postgresql.ts). A batch costs two round trips, each one
// simple-query message: BEGIN, the partition's advisory lock and the SELECT of the batch; then the DELETE of the
// rows dispatched and the COMMIT (with use_try_lock the SELECT waits for the lock's answer: three round trips).
// Round trips are what a drain waits on, most of all on a busy machine, where each one also waits for the
// scheduler to run the server and then Gyre again.
//
// The statements carry their values as literals (integers Gyre computed, ids PostgreSQL sent, the lock key
// escaped), so each is planned on every run. `SET LOCAL enable_seqscan = off` keeps those plans on the id index:
// on a table without statistics (a new or busy outbox that autovacuum has not analysed yet) the planner
// otherwise picks a sequential scan of the whole table for the DELETE and a scan plus sort of the partition for
// the SELECT, so the cost of each batch grows with the backlog. The setting ends with the transaction, and
// leaves no state on the connection (PgBouncer in transaction pooling is fine).
import pg from 'pg';

/** A bigint in PostgreSQL's text output. */
const ID = /^-?[0-9]+$/;

export class OutboxSql {
  private readonly table: string;
  private readonly lockPrefix: string;

  /** `table` is checked to be an identifier at config validation. */
  constructor(table: string, consumerName: string) {
    this.table = table;
    // The same lock key as Centrifugo, so that Gyre and Centrifugo nodes never consume one partition at once.
    this.lockPrefix = `centrifugo_partition_lock_${consumerName}`;
  }

  /**
   * BEGIN and the partition's advisory lock, then `select` when given (its result is the third). The blocking
   * `pg_advisory_xact_lock` waits for the lock; `pg_try_advisory_xact_lock` (`tryLock`) answers at once with
   * `ok` (the second result).
   */
  begin(partition: number, tryLock: boolean, select?: string): string {
    const key = `hashtext(${pg.escapeLiteral(`${this.lockPrefix}${Math.trunc(partition)}`)})`;
    const lock = tryLock ? `pg_try_advisory_xact_lock(${key}) AS ok` : `pg_advisory_xact_lock(${key})`;
    const tail = select !== undefined ? `; ${select}` : '';
    return `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL enable_seqscan = off; SELECT ${lock}${tail}`;
  }

  /** Up to `limit` rows of the partition in id order, locked FOR UPDATE. */
  select(partition: number, limit: number): string {
    return (
      `SELECT id, method, payload FROM ${this.table} WHERE partition = ${Math.trunc(partition)} ` +
      `ORDER BY id ASC LIMIT ${Math.trunc(limit)} FOR UPDATE`
    );
  }

  /** DELETE of these rows and COMMIT. Throws when an id is not an integer (no text reaches the SQL unchecked). */
  deleteAndCommit(ids: readonly string[]): string {
    if (ids.length === 0) return 'COMMIT';
    for (const id of ids) if (!ID.test(id)) throw new Error(`outbox id is not an integer: ${JSON.stringify(id)}`);
    return `DELETE FROM ${this.table} WHERE id = ANY('{${ids.join(',')}}'::bigint[]); COMMIT`;
  }
}
