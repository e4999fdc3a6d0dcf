/**
 * The ChatGPT device-code endpoints of the embedded issuer (not RFC 8628: codex's own shapes).
 * A client asks for a user code, a person enters it on /codex/device, and the client's poll then
 * receives a real authorization code plus the PKCE verifier to exchange it with.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { CLIENT_ID } from '../../src/protocol/login.js';
import { escapeHtml } from '../html.js';

interface PendingCode {
  readonly deviceAuthId: string;
  readonly userCode: string;
  approvedFor?: string;
  issued?: { authorization_code: string; code_challenge: string; code_verifier: string };
}

export interface DeviceCodesOptions {
  readonly issuer: string;
  readonly interval: number | string | null;
  mintCode(email: string, codeChallenge: string): Promise<string>;
}

export class DeviceCodes {
  private readonly byId = new Map<string, PendingCode>();
  private readonly byUserCode = new Map<string, PendingCode>();

  constructor(private readonly options: DeviceCodesOptions) {}

  /** Serves the device routes; false when the request is not one of them. */
  async handle(ctx: KoaContextWithOIDC, stats: { devicePolls: number }): Promise<boolean> {
    const route = `${ctx.method} ${ctx.path}`;
    switch (route) {
      case 'POST /api/accounts/deviceauth/usercode':
        return this.issueUserCode(ctx, await readBody(ctx));
      case 'POST /api/accounts/deviceauth/token':
        stats.devicePolls++;
        return this.poll(ctx, await readBody(ctx));
      case 'GET /codex/device':
        ctx.type = 'html';
        ctx.body = devicePage();
        return true;
      case 'POST /codex/device': {
        const form = await readBody(ctx);
        const ok = await this.approve(form['user_code'] ?? '', form['email'] || 'demo@example.com').then(
          () => true,
          () => false,
        );
        ctx.type = 'html';
        ctx.status = ok ? 200 : 400;
        ctx.body = ok ? devicePage('Device signed in. You may return to your terminal.') : devicePage('That code is not valid.');
        return true;
      }
      default:
        return false;
    }
  }

  async approve(userCode: string, email: string): Promise<void> {
    const pending = this.byUserCode.get(userCode.trim().toUpperCase());
    if (!pending) throw new Error('unknown user code');
    pending.approvedFor = email;
  }

  private issueUserCode(ctx: KoaContextWithOIDC, body: Record<string, string>): true {
    if (body['client_id'] !== CLIENT_ID) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_client' };
      return true;
    }
    const pending: PendingCode = {
      deviceAuthId: `dev-${randomBytes(12).toString('hex')}`,
      userCode: `${randomCode(4)}-${randomCode(5)}`,
    };
    this.byId.set(pending.deviceAuthId, pending);
    this.byUserCode.set(pending.userCode, pending);
    const { interval } = this.options;
    ctx.body = {
      device_auth_id: pending.deviceAuthId,
      user_code: pending.userCode,
      ...(interval !== null && { interval: String(interval) }),
    };
    return true;
  }

  private async poll(ctx: KoaContextWithOIDC, body: Record<string, string>): Promise<true> {
    const pending = this.byId.get(body['device_auth_id'] ?? '');
    if (!pending || pending.userCode !== body['user_code']) {
      ctx.status = 404;
      ctx.body = { error: 'not_found' };
      return true;
    }
    if (!pending.approvedFor) {
      ctx.status = 403;
      ctx.body = { error: 'authorization_pending' };
      return true;
    }
    if (!pending.issued) {
      const verifier = randomBytes(64).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      pending.issued = {
        authorization_code: await this.options.mintCode(pending.approvedFor, challenge),
        code_challenge: challenge,
        code_verifier: verifier,
      };
      this.byId.delete(pending.deviceAuthId);
      this.byUserCode.delete(pending.userCode);
    }
    ctx.body = pending.issued;
    return true;
  }
}

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
function randomCode(length: number): string {
  return Array.from(randomBytes(length), (byte) => CODE_ALPHABET[byte % CODE_ALPHABET.length]).join('');
}

async function readBody(ctx: KoaContextWithOIDC): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    if (ctx.is('application/json')) {
      const json = JSON.parse(text) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)]));
    }
    return Object.fromEntries(new URLSearchParams(text));
  } catch {
    return {};
  }
}

function devicePage(message?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in a device</title></head><body>
<h1>Sign in to Codex on another device</h1>${message ? `<p id="status">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/codex/device">
<label>Code shown on your device <input name="user_code" autocomplete="off" required></label>
<label>Email <input name="email" value="demo@example.com"></label>
<button type="submit">Continue</button></form></body></html>`;
}
