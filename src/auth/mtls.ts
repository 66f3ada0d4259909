/**
 * Client certificates as identities (`auth.type = "mtls"`): the subject common name is the
 * client's identity, checked against `allowed_subjects` globs (`*`, `?`, `[a-z]`, `{a,b}`;
 * a CN with `/` matches only a pattern naming it literally). Empty: any certificate the CA
 * signed.
 *
 * @module
 */
import type { TLSSocket } from "node:tls";
import { compileGlob } from "../monitor/glob.ts";

/** What the TLS layer says about a client's certificate. */
export interface PeerCertificate {
  /** The certificate chains to `client_ca_file` (`socket.authorized`). */
  readonly authorized: boolean;
  /** Subject CN (`getPeerCertificate().subject.CN`): several when the subject has several. */
  readonly commonName?: string | readonly string[];
}

/** The certificate of a `node:tls` socket, or undefined when the client sent none. */
export function peerCertificateOf(socket: TLSSocket): PeerCertificate | undefined {
  const certificate = socket.getPeerCertificate();
  if (!certificate || Object.keys(certificate).length === 0) return undefined;
  const cn: unknown = certificate.subject?.CN;
  return {
    authorized: socket.authorized,
    ...((typeof cn === "string" || Array.isArray(cn)) && { commonName: cn as string | string[] }),
  };
}

/** Compiled `allowed_subjects`. */
export class SubjectMatcher {
  readonly #matchers: ((name: string) => boolean)[];

  private constructor(matchers: ((name: string) => boolean)[]) {
    this.#matchers = matchers;
  }

  /** Compiles the globs; each bad one is a problem with its index. */
  static compile(
    patterns: readonly string[],
  ):
    | { readonly matcher: SubjectMatcher }
    | { readonly problems: readonly { index: number; message: string }[] } {
    const matchers: ((name: string) => boolean)[] = [];
    const problems: { index: number; message: string }[] = [];
    for (const [index, pattern] of patterns.entries()) {
      try {
        matchers.push(compileGlob(pattern));
      } catch (error) {
        problems.push({ index, message: error instanceof Error ? error.message : String(error) });
      }
    }
    return problems.length > 0 ? { problems } : { matcher: new SubjectMatcher(matchers) };
  }

  /** Whether the common name `cn` is allowed. */
  allows(cn: string): boolean {
    return this.#matchers.length === 0 || this.#matchers.some((matches) => matches(cn));
  }
}
