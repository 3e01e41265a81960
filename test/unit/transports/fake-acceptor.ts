// A minimal SessionAcceptor for transport tests: records transports and inbound frames, echoes frames back.
import type { SessionAcceptor } from '../../../src/transports/types.js';
import type { SessionPort, Transport } from '../../../src/transports/types.js';

export class FakeAcceptor implements SessionAcceptor {
  shuttingDown = false;
  readonly transports: Transport[] = [];
  readonly frames: Uint8Array[] = [];
  closedSessions = 0;
  echo = true;

  accept(transport: Transport): SessionPort {
    this.transports.push(transport);
    return {
      handleFrame: (frame) => {
        this.frames.push(frame);
        if (this.echo) transport.write(frame);
      },
      handleTransportClose: () => {
        this.closedSessions++;
      },
    };
  }
}
