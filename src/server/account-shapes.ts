/** The v2 (codex app-server 0.171) account shapes, built from a snapshot. */
import { PLAN_TYPES, v2PlanType, type PlanType, type V2Account } from '../protocol/account-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';

export { PLAN_TYPES, v2PlanType, type PlanType, type V2Account };

export function v2Account(snapshot: AuthSnapshot): V2Account | null {
  if (snapshot.accountType === 'apiKey') return { type: 'apiKey' };
  if (snapshot.accountType === 'chatgpt') {
    // workspaceName comes from 0.171's call to the ChatGPT backend, which this server does not make.
    return { type: 'chatgpt', email: snapshot.account?.email ?? null, planType: v2PlanType(snapshot.account?.planType), workspaceName: null };
  }
  return null;
}
