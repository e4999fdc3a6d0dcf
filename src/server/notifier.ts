/**
 * Notification fan-out: the single place notifications are encoded and queued for the client,
 * so their order against responses is the transport's FIFO order.
 *
 * Every change goes out in the 0.25 form (`codex/event/*`) to everyone; the v2 form (`account/*`)
 * also goes to a client once it has used the v2 account API, as codex app-server does.
 */
import { encodeNotification } from '../protocol/jsonrpc.js';
import type { AuthMethod } from '../protocol/auth-wire.js';
import type { LoginEnded } from '../protocol/login.js';
import type { NotificationName, NotificationParams } from '../protocol/methods.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import { v2PlanType } from './account-shapes.js';


export class Notifier {
  private accountApiClient = false;

  constructor(private readonly send: (line: string) => void) {}

  /** Called by every `account/*` method: from then on the client also gets v2 notifications. */
  subscribeAccountApi(): void {
    this.accountApiClient = true;
  }

  /** Only notifications of the wire table, with params of their type. */
  private notify<N extends NotificationName>(method: N, params: NotificationParams<N>): void {
    this.send(encodeNotification(method, params));
  }

  /** The auth method (or account) in force changed. */
  authChanged(snapshot: Pick<AuthSnapshot, 'authMethod' | 'account'>): void {
    this.authStatusChange(snapshot.authMethod);
    if (this.accountApiClient) {
      this.notify('account/updated', {
        authMode: snapshot.authMethod ?? null,
        planType: snapshot.authMethod === 'chatgpt' ? v2PlanType(snapshot.account?.planType) : null,
        reason: null,
      });
    }
  }

  loginEnded(ended: LoginEnded): void {
    if (ended.loginId !== null) {
      this.notify('codex/event/login_chat_gpt_complete', {
        loginId: ended.loginId,
        success: ended.success,
        ...(ended.error && { error: ended.error }),
        ...(ended.errorCode && { errorCode: ended.errorCode }),
      });
    }
    if (this.accountApiClient) {
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
}
