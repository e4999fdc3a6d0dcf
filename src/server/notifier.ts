/**
 * Notification fan-out: the single place notifications are encoded and queued for the client,
 * so their order against responses is the transport's FIFO order.
 *
 * What the client hears is the connection's to say (connection.ts): unsolicited changes go out in
 * the 0.25 form (`codex/event/*`) once the client has shown it is an initialize-era or codex client
 * (any request without modern `_meta`, see mcp/era.ts); the v2 form (`account/*`) once it has used
 * the v2 account API, as codex app-server does. A 2026-07-28 client gets neither unless it asks:
 * the modern era allows notifications only for an in-flight request or on a `subscriptions/listen`
 * stream (mcp/status-resource.ts sends those).
 */
import { encodeNotification } from '../protocol/jsonrpc.js';
import type { AuthMethod } from '../protocol/auth-wire.js';
import type { LoginEnded } from '../protocol/login.js';
import type { NotificationName, NotificationParams } from '../protocol/methods.js';
import { MetaKey, type SubscriptionFilter } from '../protocol/mcp-wire.js';
import type { RequestId } from '../protocol/jsonrpc.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import { v2PlanType } from './account-shapes.js';
import type { Connection } from './connection.js';

export class Notifier {
  constructor(
    private readonly send: (line: string) => void,
    private readonly connection: Connection,
  ) {}

  /** MCP logging (mcp/client-logs.ts): one of the server's log lines. */
  logMessage(params: NotificationParams<'notifications/message'>): void {
    this.notify('notifications/message', params);
  }

  /** Only notifications of the wire table, with params of their type. */
  private notify<N extends NotificationName>(method: N, params: NotificationParams<N>): void {
    this.send(encodeNotification(method, params));
  }

  /** The auth method (or account) in force changed. */
  authChanged(snapshot: Pick<AuthSnapshot, 'authMethod' | 'account'>): void {
    if (this.connection.hearsCodexEvents) this.authStatusChange(snapshot.authMethod);
    if (this.connection.hearsAccountEvents) {
      this.notify('account/updated', {
        authMode: snapshot.authMethod ?? null,
        planType: snapshot.authMethod === 'chatgpt' ? v2PlanType(snapshot.account?.planType) : null,
        reason: null,
      });
    }
  }

  loginEnded(ended: LoginEnded): void {
    if (ended.loginId !== null && this.connection.hearsCodexEvents) {
      this.notify('codex/event/login_chat_gpt_complete', {
        loginId: ended.loginId,
        success: ended.success,
        ...(ended.error && { error: ended.error }),
        ...(ended.errorCode && { errorCode: ended.errorCode }),
      });
    }
    if (this.connection.hearsAccountEvents) {
      this.notify('account/login/completed', {
        loginId: ended.loginId,
        success: ended.success,
        error: ended.error ?? null,
        onboardingEntrypoint: null,
        ...(ended.errorCode && { errorCode: ended.errorCode }),
      });
    }
  }

  /** `{authMethod}` with the method in force; omitted when signed out (as 0.25 does). */
  private authStatusChange(authMethod: AuthMethod | undefined): void {
    this.notify('codex/event/auth_status_change', authMethod ? { authMethod } : {});
  }

  /** The first message of a `subscriptions/listen` stream: what of the filter we honour. */
  subscriptionAcknowledged(subscriptionId: RequestId, notifications: SubscriptionFilter): void {
    this.notify('notifications/subscriptions/acknowledged', { _meta: { [MetaKey.subscriptionId]: subscriptionId }, notifications });
  }

  /** A resource changed: on the modern stream with this id (the stream asked for it). */
  resourceUpdatedOnStream(uri: string, subscriptionId: RequestId): void {
    this.notify('notifications/resources/updated', { _meta: { [MetaKey.subscriptionId]: subscriptionId }, uri });
  }

  /** A resource changed: to an initialize-era client, if it sent `resources/subscribe` for it. */
  resourceUpdated(uri: string): void {
    if (this.connection.subscribedTo(uri)) this.notify('notifications/resources/updated', { uri });
  }

  /** 2025-11-25: the sign-in a URL-mode elicitation pointed at has ended. */
  elicitationComplete(elicitationId: string): void {
    this.notify('notifications/elicitation/complete', { elicitationId });
  }
}
