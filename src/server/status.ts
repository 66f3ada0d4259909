import type { MonitorStats } from "../monitor/monitor.ts";
import type { Codec } from "../stream/codec.ts";
import type { Hub } from "../stream/hub.ts";
import { VERSION } from "../version.ts";
import type { RefusalReason } from "./listener.ts";

/** A bound server of a stream. */
export interface ListenerSnapshot {
  /** The port clients use (the router's, in router mode). */
  readonly port: number;
  /** The codecs of its clients, to count them. */
  readonly codecs: readonly Codec[];
  /** Open connections, when it has a listener of its own (not in router mode). */
  readonly connections?: number;
  /** Connections refused, by reason, when it has a listener of its own. */
  readonly refused?: ReadonlyMap<RefusalReason, number>;
  /** Credentials its guard turned down, by why. */
  readonly authFailures?: ReadonlyMap<string, number>;
  /** The server certificate, when the listener serves TLS. */
  readonly tls?: {
    readonly subject: string;
    readonly notAfter: Date;
    readonly clientCertificates: boolean;
  };
}

/** Live numbers of one stream, from which its status document is built. */
export interface StreamSnapshot {
  /** The stream's name. */
  readonly name: string;
  /** Where the stream is in its life. */
  readonly state: "starting" | "running" | "stopping";
  /** Seconds since the process started. */
  readonly uptimeSeconds: number;
  /** Absent for a stream fed from NATS. */
  readonly monitor?: MonitorStats | undefined;
  /** `publish` or `source` status of a stream that uses NATS. */
  readonly nats?: Record<string, unknown> | undefined;
  /** The stream's hub: clients and delivery counters. */
  readonly hub: Hub;
  /** Entries the stream's transform dropped. */
  readonly filteredEntries?: number;
  /** The transform's settings and counts, when the stream has one. */
  readonly transform?: Record<string, unknown> | undefined;
  /** Its HTTP server. */
  readonly http?: ListenerSnapshot;
  /** Its TCP server. */
  readonly tcp?: ListenerSnapshot;
}

/** `GET {status_path}`: live numbers only, never placeholders. */
export function streamStatus(snapshot: StreamSnapshot): Record<string, unknown> {
  const { monitor, hub } = snapshot;
  const main = snapshot.http ?? snapshot.tcp;
  return {
    service: "LogWisp",
    version: VERSION,
    stream: snapshot.name,
    state: snapshot.state,
    server: {
      type: snapshot.http ? "http" : "tcp",
      port: main?.port,
      active_clients: main ? hub.clientCount(main.codecs) : 0,
      uptime_seconds: snapshot.uptimeSeconds,
      ...(main && listenerFields(main)),
    },
    ...snapshot.nats,
    monitor: monitor && {
      active_watchers: monitor.activeWatchers,
      total_entries: monitor.totalEntries,
      dropped_entries: hub.droppedEntries,
      filtered_entries: snapshot.filteredEntries ?? 0,
      rotations: monitor.rotations,
      truncated_lines: monitor.truncatedLines,
      read_errors: monitor.readErrors,
      targets: monitor.targets.map((target) => ({
        path: target.path,
        type: target.type,
        ...(target.pattern !== undefined && { pattern: target.pattern }),
        state: target.state,
        ...(target.detail !== undefined && { detail: target.detail }),
        ...(target.files !== undefined && { files: target.files }),
        ...(target.skippedArchives && { skipped_archives: target.skippedArchives }),
        ...(target.skippedNames && { skipped_names: target.skippedNames }),
      })),
      watchers: monitor.watchers.map((watcher) => ({
        path: watcher.path,
        state: watcher.state,
        size: watcher.size,
        position: watcher.position,
        entries_read: watcher.entriesRead,
        rotations: watcher.rotations,
        last_read: watcher.lastRead,
        read_errors: watcher.readErrors,
        truncated_lines: watcher.truncatedLines,
        ...(watcher.detail !== undefined && { detail: watcher.detail }),
      })),
    },
    ...(snapshot.tcp && {
      tcp: {
        port: snapshot.tcp.port,
        active_clients: hub.clientCount(snapshot.tcp.codecs),
        ...listenerFields(snapshot.tcp),
      },
    }),
    ...(snapshot.transform && { transform: snapshot.transform }),
    delivery: {
      last_sequence: hub.lastSeq,
      slow_clients_disconnected: hub.slowDisconnected,
      expensive_filters_disconnected: hub.filterDisconnected,
      unserializable_entries: hub.unserializableEntries,
      ring: hub.ring,
      transports: Object.fromEntries(
        [...hub.transportTotals].map(([transport, totals]) => [transport, {
          active_clients: [...hub.clients].filter((client) => client.transport === transport)
            .length,
          connections: totals.connections,
          entries_sent: totals.entriesSent,
          bytes_sent: totals.bytesSent,
          dropped_entries: totals.dropped,
          filtered_entries: totals.filtered,
          slow_clients_disconnected: totals.slowDisconnected,
          expensive_filters_disconnected: totals.filterDisconnected,
        }]),
      ),
      clients: [...hub.clients].map((client) => ({
        id: client.id,
        transport: client.transport,
        remote_addr: client.remoteAddr,
        ...(client.identity !== undefined && { identity: client.identity }),
        connected_at: client.connectedAt.toISOString(),
        ...(client.filterDescription !== undefined && { filter: client.filterDescription }),
        sent_entries: client.queue.taken,
        queued_entries: client.queue.length,
        queued_bytes: client.queue.bytes,
        dropped_entries: client.queue.dropped,
        filtered_entries: client.filtered,
      })),
    },
  };
}

function listenerFields(server: ListenerSnapshot): Record<string, unknown> {
  return {
    ...(server.connections !== undefined && { connections: server.connections }),
    ...(server.refused && { refused_connections: Object.fromEntries(server.refused) }),
    ...(server.tls && {
      tls: {
        certificate_subject: server.tls.subject,
        certificate_expires: server.tls.notAfter.toISOString(),
        client_certificates: server.tls.clientCertificates,
      },
    }),
  };
}

/** Router mode's global `/status`: every stream's status under its name. */
export function routerStatus(
  snapshots: readonly StreamSnapshot[],
  uptimeSeconds: number,
): Record<string, unknown> {
  return {
    service: "LogWisp",
    version: VERSION,
    mode: "router",
    uptime_seconds: uptimeSeconds,
    total_streams: snapshots.length,
    streams: Object.fromEntries(snapshots.map((s) => [s.name, streamStatus(s)])),
  };
}
