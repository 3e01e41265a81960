// The one error type of config loading: a stable code, the offending key path and a human reason.

export type ConfigErrorCode =
  | 'file_not_found'
  | 'file_unreadable'
  | 'file_parse'
  | 'file_format'
  | 'invalid_value'
  | 'invalid_env'
  | 'invalid_flag'
  | 'cross_field'
  | 'unsupported';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  /** Dotted key path ("client.ping_interval", "channel.namespaces[1].name"); "" when not about one key. */
  readonly path: string;
  readonly reason: string;
  /** Every problem found, the first being (path, reason) itself; more than one only for unsupported keys. */
  readonly issues: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  /** Warnings (unknown keys) collected before the error, so `checkconfig` can report both. */
  warnings: readonly string[] = [];

  constructor(code: ConfigErrorCode, path: string, reason: string, more: ReadonlyArray<{ path: string; reason: string }> = []) {
    super(path === '' ? reason : `${path}: ${reason}`);
    this.code = code;
    this.path = path;
    this.reason = reason;
    this.issues = [{ path, reason }, ...more];
  }
}
