// Where the admin endpoints live: under admin.handler_prefix without its trailing slashes, the UI at <prefix>/admin/.
// Shared by the routes (http.ts) and the start-up line (cli/startup.ts), so both name the same URL.

/** admin.handler_prefix as the routes use it: "" for "/", no trailing slash otherwise. */
export function adminPrefix(handlerPrefix: string): string {
  return handlerPrefix.replace(/\/+$/, '');
}
