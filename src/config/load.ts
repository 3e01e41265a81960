// Builds the configuration once at start-up: defaults < file (json|yaml|toml) < env (CENTRIFUGO_*, GYRE_*) < CLI
// flags, then the key check (support.ts: Centrifugo keys Gyre does not implement are refused, unknown keys warn),
// schema parse, cross-field validation and deep freeze (docs/config.md).

import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { coerceString, readEnv, setPath, type NamespaceEnvOverride } from './env.js';
import { ConfigError } from './errors.js';
import { nodeAt, type KeyNode } from './keytree.js';
import { configSchema } from './schema.js';
import { CENTRIFUGO_TREE, checkKeys, unsupportedReason } from './support.js';
import type { GyreConfig } from './types.js';
import { validateConfig } from './validate.js';

export const DEFAULT_CONFIG_FILE = 'config.json';

export interface LoadOptions {
  /** Explicit config file (must exist). Absent ⇒ ./config.json if it exists, else defaults only. */
  file?: string | undefined;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Dotted key paths ("http_server.port") → values (strings are coerced like env vars). */
  flags?: Record<string, unknown> | undefined;
}

export interface LoadedConfig {
  config: Readonly<GyreConfig>;
  warnings: string[];
  file?: string;
}

type Raw = Record<string, unknown>;

function isPlainObject(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/** Parses a config file by extension. Throws ConfigError. */
export function parseConfigText(text: string, file: string): Raw {
  const ext = extname(file).toLowerCase();
  let parsed: unknown;
  try {
    if (ext === '.json') parsed = text.trim() === '' ? {} : JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') parsed = parseYaml(text) ?? {};
    else if (ext === '.toml') parsed = parseToml(text);
    else throw new ConfigError('file_format', '', `${file}: unsupported config format "${ext}" (use .json, .yaml, .yml or .toml)`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('file_parse', '', `${file}: ${(e as Error).message.split('\n')[0] ?? 'parse error'}`);
  }
  if (!isPlainObject(parsed)) throw new ConfigError('file_parse', '', `${file}: top level must be an object`);
  return parsed;
}

function readConfigFile(file: string | undefined): { raw: Raw; path?: string } {
  const explicit = file !== undefined && file !== '';
  const path = resolve(explicit ? file : DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (!explicit) return { raw: {} };
    throw new ConfigError('file_not_found', '', `config file ${path} not found`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('file_unreadable', '', `${path}: ${(e as Error).message}`);
  }
  return { raw: parseConfigText(text, path), path };
}

function merge(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? merge(b, v) : v;
  }
  return out;
}

function envName(ns: string): string {
  return ns.replace(/[.-]/g, '_').toLowerCase();
}

/** CENTRIFUGO_CHANNEL_NAMESPACES_<NAME>_<OPTION>: overrides one option of an existing namespace. */
function applyNamespaceOverrides(raw: Raw, overrides: readonly NamespaceEnvOverride[], warnings: string[]): Raw {
  if (overrides.length === 0) return raw;
  const channel = isPlainObject(raw['channel']) ? raw['channel'] : {};
  const list = Array.isArray(channel['namespaces']) ? [...(channel['namespaces'] as unknown[])] : [];
  const elementFields = (root?: KeyNode) => {
    const element = nodeAt('channel.namespaces', root);
    return element?.kind === 'objects' && element.element.kind === 'object' ? element.element.fields : undefined;
  };
  const fields = elementFields();
  const centrifugoFields = elementFields(CENTRIFUGO_TREE);
  for (const o of overrides) {
    let done = false;
    list.forEach((item, i) => {
      if (done || !isPlainObject(item) || typeof item['name'] !== 'string') return;
      const prefix = `${envName(item['name'])}_`;
      if (!o.rest.startsWith(prefix)) return;
      const option = o.rest.slice(prefix.length);
      const node: KeyNode | undefined = fields?.get(option) ?? centrifugoFields?.get(option);
      if (node === undefined || option === 'name') return;
      const path = `channel.namespaces[${i}].${option}`;
      try {
        list[i] = { ...item, [option]: coerceString(o.value, node) };
      } catch (e) {
        throw new ConfigError('invalid_env', path, `${o.variable}: ${(e as Error).message}`);
      }
      done = true;
    });
    if (!done) warnings.push(`unknown environment variable ${o.variable} (no such namespace option)`);
  }
  return merge(raw, { channel: { ...channel, namespaces: list } });
}

function flagsToRaw(flags: Record<string, unknown>): Raw {
  const out: Raw = {};
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const node = nodeAt(key) ?? nodeAt(key, CENTRIFUGO_TREE);
    if (node === undefined || node.kind === 'object') throw new ConfigError('invalid_flag', key, 'unknown flag');
    let v: unknown = value;
    if (typeof value === 'string') {
      try {
        v = coerceString(value, node);
      } catch (e) {
        throw new ConfigError('invalid_flag', key, (e as Error).message);
      }
    }
    setPath(out, key.split('.'), v);
  }
  return out;
}

/** null means "not set" in Centrifugo (`defaultconfig` writes null for empty lists): drop such keys. */
function dropNulls(raw: Raw): Raw {
  const out: Raw = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null) continue;
    if (isPlainObject(v)) out[k] = dropNulls(v);
    else if (Array.isArray(v)) out[k] = v.map((item: unknown) => (isPlainObject(item) ? dropNulls(item) : item));
    else out[k] = v;
  }
  return out;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

export function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Unknown keys become warnings; Centrifugo keys Gyre does not implement (at a non-default value) an error. */
function checkSupport(raw: Raw, warnings: string[]): void {
  const { unknown, unsupported } = checkKeys(raw);
  warnings.push(...unknown.map((k) => `unknown config key ${k}`));
  const [first, ...rest] = unsupported.map((u) => ({ path: u.path, reason: unsupportedReason(u) }));
  if (first !== undefined) throw new ConfigError('unsupported', first.path, first.reason, rest);
}

/** Loads, validates and freezes the configuration. Throws ConfigError (carrying the warnings found so far). */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const warnings: string[] = [];
  try {
    return build(opts, warnings);
  } catch (e) {
    if (e instanceof ConfigError) e.warnings = warnings;
    throw e;
  }
}

function build(opts: LoadOptions, warnings: string[]): LoadedConfig {
  const { raw: fileRaw, path } = readConfigFile(opts.file);
  // config/ is the only place that reads the process environment.
  const env = readEnv(opts.env ?? process.env);
  warnings.push(...env.warnings);
  let raw = merge(fileRaw, env.values);
  raw = applyNamespaceOverrides(raw, env.namespaceOverrides, warnings);
  raw = merge(raw, flagsToRaw(opts.flags ?? {}));
  checkSupport(raw, warnings);
  const parsed = configSchema.safeParse(dropNulls(raw));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError('invalid_value', issue === undefined ? '' : formatPath(issue.path), issue?.message ?? 'invalid');
  }
  const config: GyreConfig = parsed.data;
  validateConfig(config);
  const result: LoadedConfig = { config: deepFreeze(config), warnings };
  if (path !== undefined) result.file = path;
  return result;
}
