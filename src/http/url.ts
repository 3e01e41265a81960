// Request-target parsing shared by the HTTP router, the server API and the WebSocket upgrade path.

/** Splits `req.url` into pathname and query without allocating a URL object. */
export function splitUrl(url: string | undefined): { path: string; query: string } {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? { path: u, query: '' } : { path: u.slice(0, q), query: u.slice(q + 1) };
}
