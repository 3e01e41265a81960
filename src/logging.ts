// The process logger (pino). log.level "none" ⇒ silent; log.file ⇒ append there (synchronously, so nothing is
// lost on exit) instead of stdout. On a terminal the lines are pretty-printed (time, level, message, fields on one
// line, as Centrifugo does); anywhere else, and always in a file, one JSON object per line.

import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { GyreConfig } from './config/types.js';

export type { Logger } from 'pino';

const LEVELS = { none: 'silent', trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', error: 'error' } as const;

export function pinoLevel(level: GyreConfig['log']['level']): pino.LevelWithSilent {
  return LEVELS[level];
}

/** A synchronous human-readable destination: "2026-12-01 10:00:00 INFO: message key=value". */
export function prettyDestination(colorize: boolean, destination?: NodeJS.WritableStream): pino.DestinationStream {
  return pretty({
    colorize,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss',
    ignore: 'pid,hostname',
    ...(destination !== undefined ? { destination } : {}),
  });
}

/**
 * Creates the root logger. `destination` overrides stdout when no log.file is set (tests). `pretty` defaults to
 * whether stdout is a terminal.
 */
export function createLogger(
  cfg: Readonly<GyreConfig['log']>,
  destination?: pino.DestinationStream,
  pretty: boolean = process.stdout.isTTY,
): Logger {
  const options: pino.LoggerOptions = { level: pinoLevel(cfg.level) };
  if (cfg.file !== '') return pino(options, pino.destination({ dest: cfg.file, mkdir: true, sync: true }));
  if (destination !== undefined) return pino(options, destination);
  if (pretty) return pino(options, prettyDestination(true));
  return pino(options);
}
