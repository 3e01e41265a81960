// The states of one connection, apart from session.ts so command handlers and timers can name them without a
// value import of the session module.
export const SessionState = { Connecting: 0, Connected: 1, Closed: 2 } as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];
