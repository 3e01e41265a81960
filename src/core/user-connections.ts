// The admin Connections page's question, "where is this user connected?", asked of every live node with the
// `gyre.user_connections` survey (this node answers directly). Nodes that do not answer (a Centrifugo node in a
// mixed cluster, or one that timed out) make the answer partial rather than failing it.
import type { Logger } from 'pino';
import {
  USER_CONNECTIONS_OP,
  decodeUserConnectionsResult,
  encodeUserConnectionsRequest,
  type UserConnection,
} from './control/connections-survey.js';
import type { ControlPlane } from './control/plane.js';

export type { UserConnection };

export interface NodeUserConnection extends UserConnection {
  /** Name of the node holding the connection. */
  node: string;
}

export interface UserConnections {
  connections: NodeUserConnection[];
  /** False when some live node did not answer (its connections are missing). */
  complete: boolean;
}

export async function clusterUserConnections(cluster: ControlPlane, logger: Logger, user: string): Promise<UserConnections> {
  const names = new Map(cluster.nodes().map((n) => [n.uid, n.name]));
  const outcome = await cluster.survey(USER_CONNECTIONS_OP, encodeUserConnectionsRequest(user));
  let complete = outcome.complete;
  const connections: NodeUserConnection[] = [];
  for (const [uid, a] of outcome.answers) {
    try {
      if (a.code !== 0) throw new Error(`survey answer code ${a.code}`);
      const node = names.get(uid) ?? uid;
      for (const c of decodeUserConnectionsResult(a.data)) connections.push({ ...c, node });
    } catch (err) {
      logger.warn({ err, node: uid }, 'user connections: bad survey answer');
      complete = false;
    }
  }
  return { connections, complete };
}
