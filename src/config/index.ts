// Public surface of config/: load once at start-up, then pass slices of the frozen result around.

export { loadConfig, parseConfigText, deepFreeze, DEFAULT_CONFIG_FILE } from './load.js';
export type { LoadOptions, LoadedConfig } from './load.js';
export { ConfigError } from './errors.js';
export type { ConfigErrorCode } from './errors.js';
export { defaultConfig, toFileShape } from './defaults.js';
export { parseDuration, formatDuration } from './duration.js';
export { validateConfig } from './validate.js';
export { LIVE_KEYS, isLiveKey, planReload } from './diff.js';
export type { ReloadPlan } from './diff.js';
export type * from './types.js';
