/**
 * WebSocket close codes (RFC 6455 section 7.4, and the IANA registry for 1012–1014).
 *
 * @module
 */

/** The close codes LogWisp sends or reports. */
export const CLOSE_CODE = {
  /** The purpose of the connection has been fulfilled. */
  NORMAL: 1000,
  /** The server is shutting down (or a browser leaves the page). */
  GOING_AWAY: 1001,
  /** The peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** The peer sent a kind of data this endpoint does not accept (binary for LogWisp). */
  UNSUPPORTED_DATA: 1003,
  /** Reported only, never sent: the close frame carried no code. */
  NO_STATUS: 1005,
  /** Reported only, never sent: the connection ended without a close frame. */
  ABNORMAL: 1006,
  /** A text message or close reason was not valid UTF-8. */
  INVALID_PAYLOAD: 1007,
  /** The peer broke a policy of this endpoint (a slow client, for LogWisp). */
  POLICY_VIOLATION: 1008,
  /** A message was larger than this endpoint accepts. */
  MESSAGE_TOO_BIG: 1009,
  /** The server met a condition it did not expect. */
  INTERNAL_ERROR: 1011,
  /** The server is restarting. */
  SERVICE_RESTART: 1012,
  /** The server is overloaded: the client may retry later. */
  TRY_AGAIN_LATER: 1013,
} as const;

/**
 * Whether `code` may appear in a close frame: 1000–1003, 1007–1014 and the application
 * range 3000–4999. 1004 is reserved, 1005, 1006 and 1015 must never be sent.
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}
