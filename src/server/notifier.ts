/**
 * Notification fan-out: the single place notifications are encoded and queued for the client.
 * Every notification goes through here, so ordering against responses is the transport's FIFO.
 */
import { encodeNotification } from '../protocol/jsonrpc.js';
import {
  Notification,
  type AuthMethod,
  type LoginChatGptCompleteParams,
} from '../protocol/auth-wire.js';

export class Notifier {
  constructor(private readonly send: (line: string) => void) {}

  raw(method: string, params: unknown): void {
    this.send(encodeNotification(method, params));
  }

  /** `{authMethod}` with the method in force; omitted when signed out (as 0.25 does). */
  authStatusChange(authMethod: AuthMethod | undefined): void {
    this.raw(Notification.authStatusChange, authMethod ? { authMethod } : {});
  }

  loginChatGptComplete(params: LoginChatGptCompleteParams): void {
    this.raw(Notification.loginChatGptComplete, params);
  }
}
