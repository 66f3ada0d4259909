/** Who is at the other end of a connection. */
export interface Peer {
  /** The IP address, without brackets or zone; an IPv4-mapped IPv6 address as IPv4. */
  readonly address: string;
  /** The peer's port. */
  readonly port: number;
  /** The verified client certificate of an mTLS connection. */
  readonly certificate?: PeerCertificate;
}

/** What LogWisp uses of a verified client certificate. */
export interface PeerCertificate {
  /** The subject as one line, e.g. `CN=alice,O=Ops`. */
  readonly subject: string;
  /** The subject's common name, the client's identity. */
  readonly commonName: string | undefined;
}

/**
 * A byte stream to one client: what the HTTP and TCP servers need of a socket, whether it is
 * a `Deno.Conn`, a `Deno.TlsConn` or a `node:tls` socket. `read` and `write` reject once the
 * connection is closed; `close` may be called any number of times.
 */
export interface Connection {
  /** Who is at the other end. */
  readonly peer: Peer;
  /** Reads into `buffer`; null at the end of the stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves to how many were written. */
  write(bytes: Uint8Array): Promise<number>;
  /** Ends the connection at once, cutting a pending write. */
  close(): void;
  /**
   * TLS only: completes the handshake (and learns the client certificate). Rejects when it
   * fails; `read` and `write` would fail the same way.
   */
  handshake?(): Promise<void>;
}

/** Where a listener's connections come from: a bound socket, plain or TLS. */
export interface ConnectionSource {
  /** The bound port. */
  readonly port: number;
  /** The next connection; rejects with `Deno.errors.BadResource` once closed. */
  accept(): Promise<Connection>;
  /** Stops accepting. */
  close(): void;
}

/** A `Deno.Listener` (TCP or TLS) as a {@linkcode ConnectionSource}. */
export function denoSource(listener: Deno.Listener): ConnectionSource {
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accept: async () => denoConnection(await listener.accept()),
    close: () => listener.close(),
  };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(
  address: { readonly hostname: string; readonly port: number },
): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}

/** The peer's address as messages and status show it: `1.2.3.4:5678` or `[::1]:5678`. */
export function formatPeer(peer: Peer): string {
  return formatAddress({ hostname: peer.address, port: peer.port });
}

/** An IP address as LogWisp compares them: no zone, IPv4-mapped IPv6 as plain IPv4. */
export function normalizeAddress(address: string): string {
  const bare = address.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  return mapped ? mapped[1]! : bare;
}

/** Writes all of `bytes`. */
export async function writeAll(connection: Connection, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await connection.write(bytes.subarray(written));
  }
}

/** A `Deno.Conn` (TCP or TLS) as a {@linkcode Connection}. */
export function denoConnection(conn: Deno.Conn): Connection {
  const remote = conn.remoteAddr as Deno.NetAddr;
  let closed = false;
  return {
    peer: { address: normalizeAddress(remote.hostname), port: remote.port },
    ...("handshake" in conn && {
      handshake: async () => void await (conn as Deno.TlsConn).handshake(),
    }),
    read: (buffer) => conn.read(buffer),
    write: (bytes) => conn.write(bytes),
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // Already gone: nothing more to close.
      }
    },
  };
}
