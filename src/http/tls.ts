// TLS for the HTTP servers from Centrifugo's `http_server.tls` / `internal_tls` blocks. Each *_pem value is
// read the way Centrifugo reads it (config/pem.ts): raw PEM text, base64-encoded PEM, then a path to a PEM
// file. TLS 1.2 is the minimum, as in Centrifugo; `client_ca_pem` turns on mutual TLS (a client certificate
// signed by that CA is required). The server-side keys only: `server_ca_pem`, `server_name` and
// `insecure_skip_verify` configure Centrifugo's outgoing TLS and are accepted and unused here.
import { createSecureContext } from 'node:tls';
import type { TlsOptions } from 'node:tls';
import { ConfigError } from '../config/errors.js';
import { loadPem } from '../config/pem.js';
import type { GyreConfig, TlsConfig } from '../config/types.js';

/** Node TLS server options for an enabled block at `path` ("http_server.tls"), or a ConfigError. */
export function tlsServerOptions(tls: TlsConfig, path: string): TlsOptions {
  if (tls.cert_pem === '' || tls.key_pem === '') {
    throw new ConfigError('invalid_value', `${path}.${tls.cert_pem === '' ? 'cert_pem' : 'key_pem'}`, 'required when TLS is enabled');
  }
  const opts: TlsOptions = {
    cert: loadPem(tls.cert_pem, `${path}.cert_pem`),
    key: loadPem(tls.key_pem, `${path}.key_pem`),
    minVersion: 'TLSv1.2',
    // A TLS handshake gets the same 10 s as a request head.
    handshakeTimeout: 10_000,
  };
  if (tls.client_ca_pem !== '') {
    opts.ca = loadPem(tls.client_ca_pem, `${path}.client_ca_pem`);
    opts.requestCert = true;
    opts.rejectUnauthorized = true;
  }
  try {
    // Fails here, at start-up, on a key that does not match its certificate or unparsable PEM.
    createSecureContext(opts);
  } catch (err) {
    throw new ConfigError('invalid_value', `${path}.cert_pem`, `unusable certificate or key: ${(err as Error).message}`);
  }
  return opts;
}

/** TLS for the main (external) server and for the internal one (when it is separate); undefined = plain. */
export interface ServerTls {
  main: TlsOptions | undefined;
  internal: TlsOptions | undefined;
}

/**
 * Centrifugo's choice per port: `tls` on the external port, and on the internal one too unless `tls_external`;
 * an enabled `internal_tls` replaces it on the internal port.
 */
export function serverTls(hs: GyreConfig['http_server']): ServerTls {
  const main = hs.tls.enabled ? tlsServerOptions(hs.tls, 'http_server.tls') : undefined;
  let internal = hs.tls_external ? undefined : main;
  if (hs.internal_tls.enabled) internal = tlsServerOptions(hs.internal_tls, 'http_server.internal_tls');
  return { main, internal };
}
