// The PEM values of Centrifugo's TLS blocks, read the way Centrifugo reads them: raw PEM text, base64-encoded
// PEM, then the path of a PEM file; and the client side of a TLS block as Node options, for the connections
// Gyre opens (PostgreSQL and Kafka consumers, HTTP and GRPC proxies): server_ca_pem to verify the server,
// cert_pem/key_pem for a client certificate, server_name (SNI and the name the certificate must carry),
// insecure_skip_verify. client_ca_pem is a server-side key and is not used by clients, as in Centrifugo.
import { existsSync, readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from './errors.js';
import type { TlsConfig } from './types.js';

const PEM_RE = /-----BEGIN [A-Z0-9 ]+-----[\s\S]+?-----END [A-Z0-9 ]+-----/;

function isPem(text: string): boolean {
  return PEM_RE.test(text);
}

/** The PEM bytes a *_pem value stands for; a ConfigError naming `path` when it is none of the three forms. */
export function loadPem(value: string, path: string): Buffer {
  if (isPem(value)) return Buffer.from(value, 'utf8');
  if (/^[A-Za-z0-9+/=\s]+$/.test(value)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    if (isPem(decoded)) return Buffer.from(decoded, 'utf8');
  }
  if (value !== '' && existsSync(value)) {
    let content: string;
    try {
      content = readFileSync(value, 'utf8');
    } catch (err) {
      throw new ConfigError('invalid_value', path, `cannot read ${JSON.stringify(value)}: ${(err as Error).message}`);
    }
    if (!isPem(content)) throw new ConfigError('invalid_value', path, `file ${JSON.stringify(value)} contains no PEM data`);
    return Buffer.from(content, 'utf8');
  }
  throw new ConfigError('invalid_value', path, 'not PEM text, base64-encoded PEM or the path of an existing PEM file');
}

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
