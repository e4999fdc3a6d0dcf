/**
 * `status`, `login` and `logout`: the same flows as the server, for a person at a terminal.
 * Human output goes to stdout (these are not the JSON-RPC server), problems to stderr.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { authFilePath } from '../auth/store/auth-file.js';
import { isForbidden } from '../protocol/login-restrictions.js';
import type { LoadedConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import type { LoginCompletion } from '../login/login-engine.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import { v2Account } from '../server/account-shapes.js';
import { authStatusResult } from '../server/actions/status.js';
import { performLogout } from '../server/actions/logout.js';
import { createRuntime, type Runtime } from '../server/runtime.js';
import { codexHomeReport, signedOutAdvice, type CodexHomeReport } from '../server/where-we-looked.js';
import { atOnce, DEVICE_CODE_WARNING, signInWithApiKey, startChatGptSignIn, startDeviceCodeSignIn } from '../server/actions/sign-in.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

export async function withRuntime<T>(loaded: LoadedConfig, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = createRuntime(loaded, createLogger());
  try {
    await runtime.context.auth.ready;
    return await fn(runtime);
  } finally {
    await runtime.close(1_000);
  }
}

/** Exit codes: 0 signed in, 1 signed out (a credential the config forbids included), 2 credentials that cannot be used. */
export async function statusCommand(loaded: LoadedConfig, options: { json?: boolean }): Promise<number> {
  return withRuntime(loaded, async ({ context }) => {
    const snapshot = context.auth.current!;
    const status = authStatusResult(snapshot, context, false);
    const file = authFilePath(loaded.codexHome);
    const mode = snapshot.source === 'file' ? await stat(file).then((s) => s.mode & 0o777, () => undefined) : undefined;
    // Where the file is, or would be: a signed-out status names the file it looked for.
    const path = snapshot.source === 'file' || (snapshot.source === 'none' && loaded.config.cli_auth_credentials_store === 'file') ? file : null;
    // The store's warning (a fallback, or an auth.json others can read) is the server's too.
    const warnings = [snapshot.storageWarning].filter((w): w is string => !!w);
    const report: StatusReport = {
      authMethod: status.authMethod ?? null,
      account: v2Account(snapshot),
      accessTokenExpiresAt: snapshot.accessTokenExpiresAt ? new Date(snapshot.accessTokenExpiresAt).toISOString() : null,
      storage: { kind: snapshot.storage, source: snapshot.source, path, fileMode: mode === undefined ? null : formatMode(mode), warning: [...new Set(warnings)].join(' ') || null },
      authError: status.authError ?? null,
      codexHome: codexHomeReport(context.codexHome, context.codexHomeSource),
    };
    if (options.json) out(JSON.stringify(report, null, 2));
    else printStatus(report, [...new Set(warnings)], snapshot);
    // A credential the config forbids is "Not logged in" to 0.171 (exit 1), not a broken one (2).
    if (status.authError && isForbidden(status.authError.code)) return 1;
    return status.authError ? 2 : status.authMethod ? 0 : 1;
  });
}

interface StatusReport {
  authMethod: string | null;
  account: ReturnType<typeof v2Account>;
  accessTokenExpiresAt: string | null;
  storage: { kind: string; source: string; path: string | null; fileMode: string | null; warning: string | null };
  authError: { message: string } | null;
  codexHome: CodexHomeReport;
}

/** Four octal digits, as `stat -c %a` would pad them: 0600, 0644, 0000. */
export const formatMode = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

function printStatus(report: StatusReport, warnings: string[], snapshot: AuthSnapshot): void {
  if (!report.authMethod) out('Signed out.');
  else if (report.account?.type === 'chatgpt') {
    out(`Signed in with ChatGPT as ${report.account.email ?? '(no email)'} — plan ${report.account.planType}.`);
    if (report.accessTokenExpiresAt) out(`Access token expires ${report.accessTokenExpiresAt}.`);
  } else out('Signed in with an API key.');
  if (!report.authMethod && !report.authError) {
    // Where we looked (a CODEX_HOME that did not reach us is the usual reason), and what to do.
    out(signedOutAdvice(report.codexHome, 'terminal'));
  } else if (report.storage.path) out(`Credentials: ${report.storage.path} (mode ${report.storage.fileMode}).`);
  else if (snapshot.source === 'keyring') out('Credentials: the OS keyring (service "Codex Auth").');
  else if (snapshot.storage === 'memory') out('Credentials: memory only (cli_auth_credentials_store = "ephemeral"); nothing is kept after this command.');
  for (const warning of warnings) out(`Warning: ${warning}`);
  if (report.authError) out(`Problem: ${report.authError.message}`);
}

/** Signals that end a waiting `login` (cancelling it cleanly), with the exit code each gives. */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

export async function loginCommand(loaded: LoadedConfig, options: { deviceAuth?: boolean; withApiKey?: boolean }): Promise<number> {
  if (options.withApiKey) {
    const key = (await readApiKey()).trim();
    if (!key) {
      process.stderr.write('codex-auth-mcp: no API key on stdin (e.g. printenv OPENAI_API_KEY | codex-auth-mcp login --with-api-key)\n');
      return 2;
    }
    // A key never holds whitespace: this is two keys, or one broken over lines; storing it would
    // only fail later, at the API, with a less helpful message.
    if (/\s/.test(key)) {
      process.stderr.write('codex-auth-mcp: the API key on stdin has whitespace inside it (two keys, or a key broken over lines?); nothing was stored\n');
      return 2;
    }
    return withRuntime(loaded, async ({ context }) => {
      await signInWithApiKey(context, key, atOnce);
      out('Signed in with the API key.');
      return 0;
    });
  }
  // Listen for Ctrl-C before anything starts, so one pressed while the login starts still cancels it.
  let stopped: ((signal: StopSignal) => void) | undefined;
  let interruptedBy: StopSignal | undefined;
  const interrupted = new Promise<StopSignal>((resolve) => (stopped = resolve));
  const onSignal = (signal: StopSignal) => {
    if (interruptedBy) process.exit(STOP_SIGNALS[signal]); // a second Ctrl-C does not wait
    interruptedBy = signal;
    stopped!(signal);
  };
  const handlers = Object.keys(STOP_SIGNALS).map((name) => {
    const handler = () => onSignal(name as StopSignal);
    process.on(name, handler);
    return () => process.off(name, handler);
  });
  try {
    return await withRuntime(loaded, async ({ context }) => {
      const { logins } = context;
      const completion = new Promise<LoginCompletion>((resolve) => logins.onComplete(resolve));
      let loginId: string;
      let expiresAt: number | undefined;
      if (options.deviceAuth) {
        const started = await startDeviceCodeSignIn(context, atOnce);
        loginId = started.loginId;
        expiresAt = Date.now() + loaded.config.device_code_timeout_secs * 1000;
        out(`To sign in, open this page on any device:\n\n    ${started.verificationUrl}\n\nand enter this code:\n\n    ${started.userCode}\n\n${DEVICE_CODE_WARNING}\n`);
      } else {
        const started = await startChatGptSignIn(context, atOnce);
        loginId = started.loginId;
        out(`Open this URL in a browser to sign in:\n\n    ${started.authUrl}\n`);
        openBrowser(started.authUrl);
      }
      const progress = showProgress(expiresAt);
      const result = await Promise.race([completion, interrupted]).finally(() => progress.stop());
      if (typeof result === 'string') {
        // Ends the login in the worker: polling stops, the callback port is closed.
        await logins.cancel(loginId);
        out('Cancelled.');
        return STOP_SIGNALS[result];
      }
      if (!result.success && (result.errorCode === 'superseded' || result.errorCode === 'cancelled')) {
        // Nobody here cancelled (Ctrl-C is handled above): a newer sign-in took over, in a client
        // of this CODEX_HOME's server or in another `login`, which asked this one to stop.
        out('This sign-in was replaced by a newer one (started by another `codex-auth-mcp login`, `codex login` or an MCP client).\nFinish signing in in the browser window or terminal of the newer sign-in; this one has stopped.');
        return 1;
      }
      if (!result.success) {
        out(`Sign-in failed: ${result.error ?? 'unknown error'}`);
        return 1;
      }
      const account = result.snapshot ? v2Account(result.snapshot) : null;
      if (account?.type === 'chatgpt') out(`Signed in with ChatGPT as ${account.email ?? '(no email)'} — plan ${account.planType}.`);
      else out(`Signed in (${result.snapshot?.authMethod ?? 'chatgpt'}).`);
      return 0;
    });
  } finally {
    for (const remove of handlers) remove();
  }
}

/**
 * The API key: all of stdin when it is a pipe or a file; on a terminal, one line typed (or
 * pasted) without being shown, as a password prompt does. Ctrl-C there exits 130.
 */
async function readApiKey(): Promise<string> {
  if (!process.stdin.isTTY) return text(process.stdin);
  process.stderr.write('Paste or type the API key (it is not shown), then press Enter: ');
  // readline edits the line (backspace, paste) but echoes into this sink, so nothing shows.
  const hidden = new Writable({ write: (_chunk, _encoding, done) => done() });
  const prompt = createInterface({ input: process.stdin, output: hidden, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      prompt.once('line', resolve);
      prompt.once('close', () => resolve(''));
      prompt.once('SIGINT', () => {
        process.stderr.write('\n');
        process.exit(130);
      });
    });
  } finally {
    prompt.close();
    process.stderr.write('\n');
  }
}

/**
 * While a sign-in waits: on a terminal, one line updated in place with the time waited (and, for
 * a device code, the time it stays valid); elsewhere (a pipe, a log), the line once.
 */
function showProgress(expiresAt: number | undefined): { stop(): void } {
  const waiting = 'Waiting for you to sign in (Ctrl-C to cancel)…';
  if (!process.stdout.isTTY) {
    out(waiting);
    return { stop: () => undefined };
  }
  const began = Date.now();
  const clock = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;
  const draw = () => {
    const now = Date.now();
    const left = expiresAt === undefined ? '' : `, code valid for ${clock(Math.max(0, expiresAt - now))}`;
    process.stdout.write(`\r\x1b[2K${waiting} ${clock(now - began)} elapsed${left}`);
  };
  draw();
  const ticker = setInterval(draw, 1_000);
  return {
    stop() {
      clearInterval(ticker);
      process.stdout.write('\n');
    },
  };
}

export async function logoutCommand(loaded: LoadedConfig, options: { local?: boolean }): Promise<number> {
  return withRuntime(loaded, async ({ context }) => {
    const { snapshot, revoked, revokeError } = await performLogout(context, { revoke: options.local ? false : undefined, failureShownToPerson: true }, atOnce);
    if (revoked) out('The tokens were revoked at the issuer.');
    if (revokeError) process.stderr.write(`Warning: the tokens could not be revoked at the issuer (${revokeError.message}); they were removed here.\n`);
    out(snapshot?.authMethod ? `Signed out here; ${snapshot.authMethod} credentials are still stored (${snapshot.storage}).` : 'Signed out.');
    return 0;
  });
}

/** Opens the URL when a desktop is there to show it; otherwise the printed URL is enough. */
function openBrowser(url: string): void {
  if (!process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY'] && process.platform === 'linux') return;
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
}
