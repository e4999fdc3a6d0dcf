/**
 * What the client on this connection has opened, in one place: its initialize-era handshake,
 * which families of unsolicited notifications it hears, and the resources it subscribed to with
 * `resources/subscribe`. The notifier asks it what to send; the method pipeline, the MCP
 * lifecycle methods and the status resource are what open things on it.
 *
 * (A `subscriptions/listen` stream of 2026-07-28 is not here: it is a pending request, owned by
 * the status resource until it is cancelled, see mcp/status-resource.ts.)
 */
import type { ClientCapabilities } from '../protocol/mcp-wire.js';

/** The initialize-era handshake: the version agreed and what the client declared. */
export interface Handshake {
  readonly protocolVersion: string;
  readonly capabilities: ClientCapabilities;
}

export class Connection {
  private agreed: Handshake | undefined;
  private codexEvents = false;
  private accountEvents = false;
  private readonly resources = new Set<string>();

  /** The handshake, once `initialize` has been answered (at most once per connection). */
  get handshake(): Handshake | undefined {
    return this.agreed;
  }

  /** `initialize` answered: false when it already was (the caller refuses the second). */
  initialize(handshake: Handshake): boolean {
    if (this.agreed) return false;
    this.agreed = handshake;
    return true;
  }

  /** URL-mode elicitation as a server request: only after a 2025-11-25 handshake that declared it. */
  get takesUrlElicitation(): boolean {
    return this.agreed?.protocolVersion === '2025-11-25' && this.agreed.capabilities.elicitation?.url !== undefined;
  }

  /**
   * An initialize-era or codex client is on the line (a request without modern `_meta`, see
   * mcp/era.ts): from then on it hears the 0.25 notifications (`codex/event/*`).
   */
  openCodexEvents(): void {
    this.codexEvents = true;
  }

  /** The client called a v2 account method: from then on it also hears `account/*`, as codex app-server does. */
  openAccountEvents(): void {
    this.accountEvents = true;
  }

  get hearsCodexEvents(): boolean {
    return this.codexEvents;
  }

  get hearsAccountEvents(): boolean {
    return this.accountEvents;
  }

  /** `resources/subscribe` (initialize era): the client hears `notifications/resources/updated` for it. */
  subscribe(uri: string): void {
    this.resources.add(uri);
  }

  unsubscribe(uri: string): void {
    this.resources.delete(uri);
  }

  subscribedTo(uri: string): boolean {
    return this.resources.has(uri);
  }
}
