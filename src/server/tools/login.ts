/**
 * The interactive part of the `login` tool: asking the person to open the sign-in page.
 *
 * - 2026-07-28 (client declares `elicitation.url`): the call answers `input_required` with a
 *   URL-mode elicitation and a signed requestState naming the login; the client shows the URL and
 *   retries with the person's answer; the retry waits (bounded) for the sign-in to end and answers
 *   with the outcome, or asks again while it is still running. Nothing is ever sent as a request.
 * - 2025-11-25 (client declared `elicitation.url` at initialize): the same page through an
 *   `elicitation/create` request of mode `url`, then `notifications/elicitation/complete` when the
 *   sign-in ends.
 * - Anyone else: the URL (or the code) in the tool's text, as before.
 */
import * as z from '../../protocol/zod.js';
import { ErrorCode, RpcError } from '../../protocol/jsonrpc.js';
import { ElicitResultSchema, type ElicitResult, type InputRequiredResult, type ToolResult } from '../../protocol/mcp-wire.js';
import type { LoginCompletion } from '../../login/login-engine.js';
import { atOnce, DEVICE_CODE_WARNING, type After, startChatGptSignIn, startDeviceCodeSignIn } from '../actions/sign-in.js';
import type { ServerContext } from '../context.js';
import type { ModernRequest } from '../../protocol/mcp-wire.js';
import { missingCapability } from '../mcp/era.js';
import { openState, sealState } from '../mcp/request-state.js';
import { describeStatus, text, toolError } from './results.js';

/** How long one retry (or the 2025-11-25 call) waits for the sign-in before asking again; below the SDKs' 60 s request timeout. */
export const SIGN_IN_WAIT_MS = 30_000;
/**
 * How many retries may wait for their sign-in at once on one connection; a retry beyond it is
 * answered at once (each waiting one holds a timer and a waiter; a client could send thousands).
 */
export const MAX_WAITING_RETRIES = 16;
/** The key of our one input request. */
const SIGN_IN_INPUT = 'sign_in';

const StateSchema = z.object({ tool: z.literal('login'), method: z.enum(['chatgpt', 'device_code']), loginId: z.string(), url: z.string(), userCode: z.optional(z.string()), message: z.string() });
type LoginState = z.infer<typeof StateSchema>;

export type InteractiveMethod = LoginState['method'];

export interface LoginCall {
  readonly method: InteractiveMethod;
  readonly after: After;
  readonly signal: AbortSignal;
  /** Set for a 2026-07-28 request. */
  readonly modern?: ModernRequest;
  readonly inputResponses?: Record<string, unknown>;
  readonly requestState?: string;
  /** Set when an initialize-era client can be sent a URL-mode elicitation (2025-11-25). */
  readonly elicit?: (params: { message: string; url: string; elicitationId: string }, signal: AbortSignal) => Promise<ElicitResult>;
}

/** Remembers how recent sign-ins ended, so a retry that comes after the ending still learns it. */
export class LoginOutcomes {
  private readonly ended = new Map<string, LoginCompletion>();
  private readonly waiters = new Map<string, ((completion: LoginCompletion) => void)[]>();

  constructor(private readonly context: ServerContext) {
    context.logins.onComplete((completion) => {
      this.ended.set(completion.loginId, completion);
      if (this.ended.size > 16) this.ended.delete(this.ended.keys().next().value!);
      // A copy: each waiter takes itself off the list as it resolves.
      for (const resolve of [...(this.waiters.get(completion.loginId) ?? [])]) resolve(completion);
      this.waiters.delete(completion.loginId);
    });
  }

  /** The ending, 'pending' if it has not ended within `ms`, or 'unknown' for a login that is not running here. */
  async wait(loginId: string, ms: number, signal: AbortSignal): Promise<LoginCompletion | 'pending' | 'unknown'> {
    const ended = this.ended.get(loginId);
    if (ended) return ended;
    if (this.context.logins.activeLoginId !== loginId) return 'unknown';
    return new Promise((resolve) => {
      const list = this.waiters.get(loginId) ?? [];
      this.waiters.set(loginId, list);
      const finish = (outcome: LoginCompletion | 'pending') => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const index = list.indexOf(onEnd);
        if (index >= 0) list.splice(index, 1);
        resolve(outcome);
      };
      const onEnd = (completion: LoginCompletion) => finish(completion);
      const onAbort = () => finish('pending');
      const timer = setTimeout(() => finish('pending'), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      list.push(onEnd);
    });
  }
}

export class InteractiveLogin {
  private readonly outcomes: LoginOutcomes;
  private waitingRetries = 0;

  constructor(private readonly context: ServerContext) {
    this.outcomes = new LoginOutcomes(context);
  }

  async run(call: LoginCall): Promise<ToolResult | InputRequiredResult> {
    if (call.modern && call.requestState !== undefined) return this.retry(call, call.modern);
    const canAsk = call.modern ? call.modern.clientCapabilities.elicitation?.url !== undefined : call.elicit !== undefined;
    // The 2025-11-25 path answers only once the sign-in ended; its completion must not wait for
    // that answer (the elicitation request, sent at once, already names the login).
    const state = await this.start(call, canAsk && !call.modern ? atOnce : call.after);
    if (!canAsk) return plainAnswer(state);
    if (call.modern) return askAgain(state, this.context);
    return this.elicitLegacy(call, state);
  }

  private async start(call: LoginCall, after: After): Promise<LoginState> {
    if (call.method === 'chatgpt') {
      const { loginId, authUrl } = await startChatGptSignIn(this.context, after);
      return { tool: 'login', method: 'chatgpt', loginId, url: authUrl, message: 'Open this page to sign in to OpenAI with your ChatGPT account.' };
    }
    const { loginId, verificationUrl, userCode } = await startDeviceCodeSignIn(this.context, after);
    return { tool: 'login', method: 'device_code', loginId, url: verificationUrl, userCode, message: `Open this page on any device and enter the code ${userCode}. ${DEVICE_CODE_WARNING}` };
  }

  /** The client came back with the person's answer (or without one). */
  private async retry(call: LoginCall, modern: ModernRequest): Promise<ToolResult | InputRequiredResult> {
    const state = openState(call.requestState!, StateSchema);
    if (!state || state.method !== call.method) {
      throw new RpcError(ErrorCode.InvalidParams, 'Invalid params: requestState is not one this server issued for this call (changed, expired, or from an earlier server process); call login again without it');
    }
    const answer = ElicitResultSchema.safeParse(call.inputResponses?.[SIGN_IN_INPUT]);
    if (answer.success && answer.data.action !== 'accept') return this.abandon(state, answer.data.action);
    if (answer.success && this.waitingRetries >= MAX_WAITING_RETRIES) {
      return toolError(`${MAX_WAITING_RETRIES} retries of this sign-in are already waiting on this connection; wait for one of them to be answered`);
    }
    let outcome: LoginCompletion | 'pending' | 'unknown' = 'pending';
    if (answer.success) {
      this.waitingRetries++;
      try {
        outcome = await this.outcomes.wait(state.loginId, SIGN_IN_WAIT_MS, call.signal);
      } finally {
        this.waitingRetries--;
      }
    }
    if (outcome === 'pending') {
      // Still running (or the answer is missing): ask again, which needs the capability this time.
      if (modern.clientCapabilities.elicitation?.url === undefined) throw missingCapability({ elicitation: { url: {} } });
      return askAgain(state, this.context);
    }
    return this.ending(state, outcome);
  }

  private async elicitLegacy(call: LoginCall, state: LoginState): Promise<ToolResult> {
    let answer: { asked: ElicitResult } | { ended: LoginCompletion | 'pending' | 'unknown' };
    const asking = new AbortController();
    const stop = () => asking.abort(call.signal.reason);
    call.signal.addEventListener('abort', stop, { once: true });
    try {
      // The person may finish (or the login time out) before the client answers: whichever comes first.
      answer = await Promise.race([
        call.elicit!({ message: state.message, url: state.url, elicitationId: state.loginId }, asking.signal).then((asked) => ({ asked })),
        this.outcomes.wait(state.loginId, this.context.config.login_timeout_secs * 1000, asking.signal).then((ended) => ({ ended })),
      ]);
    } catch (failure) {
      this.context.log.debug({ err: failure instanceof Error ? failure.message : String(failure) }, 'URL elicitation failed; answering with the URL');
      return plainAnswer(state);
    } finally {
      call.signal.removeEventListener('abort', stop);
      asking.abort(new Error('answered'));
    }
    if ('ended' in answer) {
      if (answer.ended === 'pending') return plainAnswer(state);
      this.context.notifier.elicitationComplete(state.loginId);
      return this.ending(state, answer.ended);
    }
    if (answer.asked.action !== 'accept') return this.abandon(state, answer.asked.action);
    // The person's client tells it the page was opened: it hears the end through elicitation/complete.
    void this.outcomes.wait(state.loginId, this.context.config.login_timeout_secs * 1000, new AbortController().signal).then((outcome) => {
      if (outcome !== 'pending') this.context.notifier.elicitationComplete(state.loginId);
    });
    const outcome = await this.outcomes.wait(state.loginId, SIGN_IN_WAIT_MS, call.signal);
    return outcome === 'pending' ? plainAnswer(state) : this.ending(state, outcome);
  }

  private async abandon(state: LoginState, action: 'decline' | 'cancel'): Promise<ToolResult> {
    await this.context.logins.cancel(state.loginId);
    return text(`Sign-in ${action === 'decline' ? 'declined' : 'cancelled'}; nothing was changed.`, { method: state.method, loginId: state.loginId, status: action });
  }

  private ending(state: LoginState, outcome: LoginCompletion | 'unknown'): ToolResult {
    if (outcome === 'unknown') return toolError('This sign-in is no longer running (it was replaced or the server restarted); call login again.');
    if (!outcome.success) return toolError(`Sign-in failed: ${outcome.error ?? outcome.errorCode ?? 'unknown error'}`);
    const snapshot = outcome.snapshot ?? this.context.auth.current!;
    const status = describeStatus(snapshot, this.context);
    return { ...status, structuredContent: { ...status.structuredContent, method: state.method, loginId: state.loginId, status: 'signed_in' } };
  }
}

function askAgain(state: LoginState, context: ServerContext): InputRequiredResult {
  const { tool: _tool, ...payload } = state;
  return {
    resultType: 'input_required',
    inputRequests: { [SIGN_IN_INPUT]: { method: 'elicitation/create', params: { mode: 'url', message: state.message, url: state.url } } },
    requestState: sealState({ tool: 'login', ...payload }, context.config.login_timeout_secs * 1000),
  };
}

/**
 * The sign-in runs inside this server process, so it completes only while the server runs. A
 * one-shot client (one call, then exit: `mcporter call`, the Inspector's --cli) ends the server,
 * and with it the sign-in, before the person can finish: say so where the person reads the URL.
 */
export const SIGN_IN_LIFETIME_NOTE =
  'This sign-in lives as long as this MCP server: keep this client connected until it completes. A one-shot client (one call, then exit) stops the server, and the sign-in with it.';

/** The pre-elicitation answer: the URL or the code in the text. */
function plainAnswer(state: LoginState): ToolResult {
  if (state.method === 'chatgpt') {
    return text(`Open this URL in a browser to sign in with ChatGPT:\n${state.url}\n${SIGN_IN_LIFETIME_NOTE}`, { method: 'chatgpt', loginId: state.loginId, authUrl: state.url });
  }
  const userCode = state.userCode ?? '';
  return text(`Open ${state.url} on any device and enter the code ${userCode}.\n${DEVICE_CODE_WARNING}\n${SIGN_IN_LIFETIME_NOTE}`, { method: 'device_code', loginId: state.loginId, verificationUrl: state.url, userCode });
}
