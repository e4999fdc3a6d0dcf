/** Minted test JWTs with the claims codex reads (the server never checks signatures). */
import { SignJWT } from 'jose';

const SECRET = new TextEncoder().encode('codex-auth-mcp-test-secret');

export interface TestTokenClaims {
  email?: string;
  planType?: string;
  accountId?: string;
  /** Seconds since the epoch; default one hour from now. */
  exp?: number;
}

export async function testJwt(claims: TestTokenClaims = {}): Promise<string> {
  const auth: Record<string, string> = {};
  if (claims.planType) auth['chatgpt_plan_type'] = claims.planType;
  if (claims.accountId) auth['chatgpt_account_id'] = claims.accountId;
  return new SignJWT({
    ...(claims.email && { email: claims.email }),
    'https://api.openai.com/auth': auth,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 3600)
    .sign(SECRET);
}

/** An auth.json record for a ChatGPT sign-in, optionally with an exchanged API key. */
export async function chatgptAuthRecord(
  claims: TestTokenClaims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' },
  apiKey: string | null = null,
) {
  return {
    OPENAI_API_KEY: apiKey,
    tokens: {
      id_token: await testJwt(claims),
      access_token: await testJwt(claims),
      refresh_token: 'rt-test-1',
      account_id: claims.accountId ?? null,
    },
    last_refresh: new Date().toISOString(),
  };
}
