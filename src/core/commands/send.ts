// Client `send` (async message): like Centrifugo OSS there is no message handler ⇒ disconnect 3508.
import { Disconnects } from '../../protocol/errors.js';
import type { SendRequest } from '../../protocol/types.js';
import type { Session } from '../session.js';

export function handleSend(_s: Session, _id: number, _req: SendRequest): Promise<void> {
  return Promise.reject(Disconnects.notAvailable());
}
