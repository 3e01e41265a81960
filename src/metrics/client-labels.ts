// The client_name and client_version label values of the client metrics, as Centrifugo 6.9.1 sets them: the
// name and version a client sends in its connect command are its own to choose, so they never become label
// values (each new value would be a new series kept for the process's life). A client that sends none is
// `unnamed` / `unversioned`, any other `unregistered` (Centrifugo has no list of registered names to let through).
// accept_protocol is empty for every transport, as Centrifugo 6.9.1 reports it.

export function metricClientName(name: string): string {
  return name === '' ? 'unnamed' : 'unregistered';
}

export function metricClientVersion(version: string): string {
  return version === '' ? 'unversioned' : 'unregistered';
}

export const METRIC_ACCEPT_PROTOCOL = '';
