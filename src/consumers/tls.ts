// Client-side TLS options from Centrifugo's TLS block for the connections consumers open (PostgreSQL, Kafka):
// server_ca_pem to verify the server, cert_pem/key_pem for a client certificate, server_name, insecure_skip_verify.
// Each *_pem is raw PEM, base64-encoded PEM or a file path, read as the HTTP servers read theirs.
import type { ConnectionOptions } from 'node:tls';
import type { TlsConfig } from '../config/types.js';
import { loadPem } from '../http/tls.js';

/** Node TLS client options for an enabled block at `path`, or undefined when it is disabled. */
export function clientTls(t: TlsConfig, path: string): ConnectionOptions | undefined {
  if (!t.enabled) return undefined;
  const o: ConnectionOptions = { minVersion: 'TLSv1.2' };
  if (t.server_ca_pem !== '') o.ca = loadPem(t.server_ca_pem, `${path}.server_ca_pem`);
  if (t.cert_pem !== '') o.cert = loadPem(t.cert_pem, `${path}.cert_pem`);
  if (t.key_pem !== '') o.key = loadPem(t.key_pem, `${path}.key_pem`);
  if (t.server_name !== '') o.servername = t.server_name;
  if (t.insecure_skip_verify) o.rejectUnauthorized = false;
  return o;
}

