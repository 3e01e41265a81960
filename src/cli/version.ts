// `gyre version`

import { serverVersionString } from '../version.js';
import { out } from './common.js';

export function runVersion(): void {
  out(serverVersionString());
}
