/** The v2 (codex app-server) account shapes, built from a snapshot. */
import type { AuthSnapshot } from '../protocol/snapshot.js';

export const PLAN_TYPES = ['free', 'go', 'plus', 'pro', 'team', 'business', 'enterprise', 'edu', 'unknown'] as const;
export type PlanType = (typeof PLAN_TYPES)[number];

const ALIASES: Record<string, PlanType> = { hc: 'enterprise', education: 'edu' };

export function v2PlanType(raw: string | undefined): PlanType {
  const plan = raw?.toLowerCase() ?? 'unknown';
  return ALIASES[plan] ?? ((PLAN_TYPES as readonly string[]).includes(plan) ? (plan as PlanType) : 'unknown');
}

export type V2Account = null | { type: 'apiKey' } | { type: 'chatgpt'; email: string | null; planType: PlanType };

export function v2Account(snapshot: AuthSnapshot): V2Account {
  if (snapshot.authMethod === 'apikey') return { type: 'apiKey' };
  if (snapshot.authMethod === 'chatgpt') {
    return { type: 'chatgpt', email: snapshot.account?.email ?? null, planType: v2PlanType(snapshot.account?.planType) };
  }
  return null;
}
