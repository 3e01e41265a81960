// The process logger (pino). log.level "none" ⇒ silent; log.file ⇒ append there (synchronously, so nothing is
// lost on exit) instead of stdout.

import pino, { type Logger } from 'pino';
import type { GyreConfig } from './config/types.js';

export type { Logger } from 'pino';

const LEVELS = { none: 'silent', trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', error: 'error' } as const;

export function pinoLevel(level: GyreConfig['log']['level']): pino.LevelWithSilent {
  return LEVELS[level];
}

/** Creates the root logger. `destination` overrides stdout when no log.file is set (tests). */
export function createLogger(cfg: Readonly<GyreConfig['log']>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { level: pinoLevel(cfg.level) };
  if (cfg.file !== '') return pino(options, pino.destination({ dest: cfg.file, mkdir: true, sync: true }));
  if (destination !== undefined) return pino(options, destination);
  return pino(options);
}
