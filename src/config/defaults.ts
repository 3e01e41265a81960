// The full default configuration (every key, parsed by the schema from an empty input) and its rendering back
// to file form (durations as strings such as "25s"), used by `defaultconfig` and `genconfig`.

import { formatDuration } from './duration.js';
import { KEY_TREE, type KeyNode } from './keytree.js';
import { configSchema } from './schema.js';
import type { GyreConfig } from './types.js';

/** A fresh, mutable copy of the defaults (ms durations). */
export function defaultConfig(): GyreConfig {
  return configSchema.parse({});
}

function render(value: unknown, node: KeyNode): unknown {
  switch (node.kind) {
    case 'duration':
      return typeof value === 'number' ? formatDuration(value) : value;
    case 'object': {
      if (value === null || typeof value !== 'object') return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const child = node.fields.get(k);
        out[k] = child === undefined ? v : render(v, child);
      }
      return out;
    }
    case 'objects':
      return Array.isArray(value) ? value.map((item: unknown) => render(item, node.element)) : value;
    case 'strings':
      return Array.isArray(value) ? [...(value as unknown[])] : value;
    case 'bool':
    case 'number':
    case 'string':
    case 'unknown':
      return value;
  }
}

/** Converts a config (ms durations) into the plain file-shaped tree users write (durations as strings). */
export function toFileShape(config: Readonly<GyreConfig>): Record<string, unknown> {
  return render(config, KEY_TREE) as Record<string, unknown>;
}
