/**
 * Notification fan-out: the single place notifications are encoded and queued for the client,
 * so their order against responses is the transport's FIFO order.
 *
 * Every change goes out in the 0.25 form (`codex/event/*`) to everyone; the v2 form (`account/*`)
 * also goes to a client once it has used the v2 account API, as codex app-server does.
 */
import { encodeNotification } from '../protocol/jsonrpc.js';
import {
  Notification,
  type AuthMethod,
  type AuthStatusChangeParams,
  type LoginChatGptCompleteParams,
  type LoginErrorCode,
} from '../protocol/auth-wire.js';
import type { AccountLoginCompletedParams, AccountUpdatedParams } from '../protocol/account-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import { v2PlanType } from './account-shapes.js';

export interface LoginEnded {
  /** null for sign-ins that have no id (API key). */
  readonly loginId: string | null;
  readonly success: boolean;
  readonly error?: string | undefined;
  readonly errorCode?: LoginErrorCode | undefined;
}

export class Notifier {
  private accountApiClient = false;

  constructor(private readonly send: (line: string) => void) {}

  /** Called by every `account/*` method: from then on the client also gets v2 notifications. */
  subscribeAccountApi(): void {
    this.accountApiClient = true;
  }

  raw(method: string, params: unknown): void {
    this.send(encodeNotification(method, params));
  }

  /** The auth method (or account) in force changed. */
  authChanged(snapshot: Pick<AuthSnapshot, 'authMethod' | 'account'>): void {
    this.authStatusChange(snapshot.authMethod);
    if (this.accountApiClient) {
      const params: AccountUpdatedParams = {
        authMode: snapshot.authMethod ?? null,
        planType: snapshot.authMethod === 'chatgpt' ? v2PlanType(snapshot.account?.planType) : null,
        reason: null,
      };
      this.raw('account/updated', params);
    }
  }

  loginEnded(ended: LoginEnded): void {
    if (ended.loginId !== null) {
      const params: LoginChatGptCompleteParams = {
        loginId: ended.loginId,
        success: ended.success,
        ...(ended.error && { error: ended.error }),
        ...(ended.errorCode && { errorCode: ended.errorCode }),
      };
      this.raw(Notification.loginChatGptComplete, params);
    }
    if (this.accountApiClient) {
      const params: AccountLoginCompletedParams = {
        loginId: ended.loginId,
        success: ended.success,
        error: ended.error ?? null,
        onboardingEntrypoint: null,
        ...(ended.errorCode && { errorCode: ended.errorCode }),
      };
      this.raw('account/login/completed', params);
    }
  }

  /** `{authMethod}` with the method in force; omitted when signed out (as 0.25 does). */
  private authStatusChange(authMethod: AuthMethod | undefined): void {
    const params: AuthStatusChangeParams = authMethod ? { authMethod } : {};
    this.raw(Notification.authStatusChange, params);
  }
}
