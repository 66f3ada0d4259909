/**
 * The audit log's `connect` and `disconnect` lines of a stream's clients, from the hub's
 * client events: who (user, or certificate subject under mTLS), from where, and for a
 * disconnect how long and how much was sent.
 *
 * @module
 */
import type { AuditLog, AuditTransport } from "../audit/audit_log.ts";
import type { AuthConfig } from "../config/types.ts";
import type { HubOptions, Subscription } from "../stream/hub.ts";

/**
 * The hub's `onClient` hook writing to `audit`; `authTypeOf` tells which auth the server of
 * a transport (`tcp`, `sse`, `ws`) uses.
 */
export function clientAudit(
  audit: AuditLog | undefined,
  stream: string,
  authTypeOf: (transport: string) => AuthConfig["type"] | undefined,
): NonNullable<HubOptions["onClient"]> {
  return (event, client) => {
    if (!audit) return;
    const fields = {
      stream,
      transport: transportOf(client),
      remoteAddr: client.remoteAddr,
      ...(client.identity !== undefined &&
        (authTypeOf(client.transport) === "mtls"
          ? { subject: client.identity }
          : { user: client.identity })),
    };
    if (event === "open") audit.record({ event: "connect", ...fields });
    else {
      audit.record({
        event: "disconnect",
        ...fields,
        durationMs: Date.now() - client.connectedAt.getTime(),
        entries: client.entriesSent,
        bytes: client.bytesSent,
      });
    }
  };
}

function transportOf(client: Subscription): AuditTransport {
  if (client.transport === "tcp") return "tcp";
  return client.transport === "sse" ? "http" : "websocket";
}
