/**
 * The `codex-auth-mcp` command: `serve` (default; alias `mcp`) speaks JSON-RPC on stdio.
 * `-c key=value` may stand before or after the subcommand, as with `codex`.
 *
 * Exit codes every command shares: 2 for a usage error (an unknown command or option, a missing
 * value), a bad config or an unusable CODEX_HOME; each command documents its others.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { codexHomeProblem, createCodexHome } from '../auth/store/codex-home.js';
import { assertCodexHomeWritable } from '../auth/store/home-writable.js';
import { BACKENDS } from '../auth/store/store.js';
import { codexHomeOrigin, isRelativeCodexHome, type CodexHomeOrigin } from '../config/codex-home-env.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { nearMiss } from '../config/near-miss.js';
import { logLevelProblem } from '../log.js';
import { packageInfo } from '../server/package-info.js';
import { earlyThreadSettled } from '../auth/token-service-pool.js';
import { serve } from '../server/server.js';

// A person's commands load their code when they run: a start of the server, which an MCP client
// pays for every window, does not load their prompts, child processes and readline.
const commands = () => import('./commands.js');
const accountCommands = () => import('./accounts.js');

/** Usage errors, a bad config, an unusable CODEX_HOME. */
const USAGE_ERROR = 2;
const COMMANDS = ['serve', 'mcp', 'status', 'login', 'logout', 'accounts', 'help'];

// No default value: commander would print `(default: [])` in every --help; unset reads as none.
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * commander suggests an option only when it is spelt nearly right; a shortened one
 * (`login --device`) gets nothing. This adds the one option it begins, when there is one.
 */
function suggestCompletedOptions(command: Command): Command {
  const withUnknown = command as Command & { unknownOption(flag: string): void };
  const original = withUnknown.unknownOption.bind(command);
  withUnknown.unknownOption = (flag: string) => {
    const completions = flag.startsWith('--') ? command.options.map((o) => o.long).filter((long): long is string => !!long?.startsWith(flag)) : [];
    if (completions.length === 1) command.error(`error: unknown option '${flag}'\n(Did you mean ${completions[0]}?)`, { code: 'commander.unknownOption' });
    original(flag);
  };
  return command;
}

/** Every command takes `-c key=value` and `-p/--profile <name>`, before or after its name, as codex does. */
const withConfigOption = (command: Command) =>
  suggestCompletedOptions(command)
    .option('-c, --config <key=value>', 'override a config.toml value (TOML value; repeatable)', collect)
    .option('-p, --profile <name>', 'lay $CODEX_HOME/<name>.config.toml over config.toml (as codex --profile)');

/** What the config is read with: every `-c`, and the last `--profile` given. */
interface ConfigArgs {
  readonly overrides: string[];
  readonly profile?: string | undefined;
}


/** Ends the process, once a token-service thread started early has loaded (see earlyThreadSettled). */
async function exit(code?: number): Promise<never> {
  await earlyThreadSettled();
  // Not process.exit(undefined): on Node 20 that sets exitCode to undefined, i.e. 0.
  process.exit(code ?? process.exitCode);
}

async function stop(message: string): Promise<never> {
  process.stderr.write(`codex-auth-mcp: ${message}\n`);
  return exit(USAGE_ERROR);
}

/**
 * Checks CODEX_HOME and loads the config, or stops the process at once with exit code 2 and one
 * clear message. `willWrite: 'remove'` (logout): an existing CODEX_HOME must be writable.
 * `willWrite: true`: the command is about to store credentials, so CODEX_HOME is made
 * now — a folder that cannot be made fails here, before a key is asked for or a URL printed.
 */
async function loadOrExit({ overrides, profile }: ConfigArgs, willWrite: boolean | 'remove' = false): Promise<LoadedConfig> {
  const origin = codexHomeOrigin();
  const codexHome = origin.path;
  const problem = (await codexHomeProblem(codexHome)) ?? (await missingCodexHome(origin));
  if (problem) await stop(problem);
  if (isRelativeCodexHome(origin)) process.stderr.write(`codex-auth-mcp: warning: CODEX_HOME (${origin.raw}) is a relative path, taken from the working folder: ${codexHome}\n`);
  let loaded: LoadedConfig;
  try {
    loaded = { ...loadConfig(codexHome, overrides, { profile }), codexHomeSource: origin.source };
  } catch (error) {
    if (error instanceof ConfigError) await stop(error.message);
    throw error;
  }
  if (willWrite === 'remove' && BACKENDS[loaded.config.cli_auth_credentials_store].writesCodexHome && (await stat(codexHome).then(() => true, () => false))) {
    // A logout takes Codex's locks in CODEX_HOME: one that cannot be written is said so, not a raw EACCES.
    await assertCodexHomeWritable(codexHome, 'sign-out').catch((error: Error) => stop(error.message));
  } else if (willWrite === true && BACKENDS[loaded.config.cli_auth_credentials_store].writesCodexHome) {
    await createCodexHome(codexHome).catch((error: Error) => stop(error.message));
    // A folder made, but one this process cannot write (or unsafe): refused before a URL or code is printed.
    await assertCodexHomeWritable(codexHome).catch((error: Error) => stop(error.message));
  }
  for (const warning of loaded.warnings) process.stderr.write(`codex-auth-mcp: ${warning}\n`);
  return loaded;
}

/**
 * A CODEX_HOME that is set but does not exist is refused, as Codex 0.171 refuses it (same words;
 * it exits 1, we 2 like every unusable CODEX_HOME): it is almost always a typo, a `~` nobody
 * expanded, or a relative path taken from whatever folder the client started us in, and creating
 * it would hide the person's real credentials. Only the default ~/.codex is made when first needed.
 */
async function missingCodexHome(origin: CodexHomeOrigin): Promise<string | undefined> {
  if (origin.source !== 'env' || (await stat(origin.path).then(() => true, () => false))) return undefined;
  const raw = origin.raw!;
  const fix = raw.startsWith('~')
    ? `~ is not expanded here: write the full path (${join(homedir(), raw.slice(1))})`
    : isRelativeCodexHome(origin)
      ? `a relative path is taken from the working folder (${origin.path}): write the full path`
      : `create it (mkdir -m 700 ${origin.path}), or unset CODEX_HOME for ~/.codex`;
  return `CODEX_HOME points to "${raw}", but that path does not exist; ${fix}`;
}

/**
 * What a person who ran the server by hand in a terminal sees (on stderr: stdout stays JSON-RPC):
 * the entry to paste names the CODEX_HOME this terminal uses, since clients do not pass it on.
 */
const waitingForAClient = (codexHome: string) => `codex-auth-mcp: this is an MCP server, waiting for an MCP client to speak JSON-RPC on stdin.
  To use it, add it to your MCP client: {"command": "codex-auth-mcp", "args": ["mcp"], "env": {"CODEX_HOME": ${JSON.stringify(codexHome)}}}
  To try it here, type:  {"jsonrpc":"2.0","id":1,"method":"getAuthStatus"}   (Ctrl-D quits)
  For people:  codex-auth-mcp status | login | logout   (codex-auth-mcp --help for more)
`;

/** Words people type for an option: `codex-auth-mcp version` means `--version`. */
const OPTION_AS_COMMAND: Record<string, string> = { version: '--version', '-v': '--version' };

function unknownCommand(name: string): Promise<never> {
  const meant = OPTION_AS_COMMAND[name] ?? nearMiss(name, COMMANDS);
  return stop(
    `unknown command '${name}'${meant ? ` (did you mean '${meant}'?)` : ''}\n` +
      `Commands: serve (alias mcp, the default), status, login, logout, accounts, help. See codex-auth-mcp --help.`,
  );
}

function buildProgram(): Command {
  const program = withConfigOption(new Command('codex-auth-mcp'))
    .description('An MCP server (JSON-RPC on stdio) that manages OpenAI / ChatGPT sign-in for the clients that spawn it.')
    .version(packageInfo.version, '-V, --version')
    // Usage errors are handled below (exit 2); commander still prints its message first.
    .exitOverride()
    .addHelpText(
      'after',
      `
Environment:
  CODEX_HOME            where config.toml and auth.json live (default ~/.codex)
  CODEX_AUTH_MCP_LOG    log level on stderr: trace|debug|info|warn|error|silent (default warn)

Exit codes: 2 for a usage error, a bad config or an unusable CODEX_HOME; see each command for the rest.

Examples:
  codex-auth-mcp                                  serve JSON-RPC on stdio
  codex-auth-mcp mcp -c preferred_auth_method=apikey
  codex-auth-mcp status --json
  codex-auth-mcp login --device-auth
  CODEX_HOME=/tmp/h codex-auth-mcp serve -c auth_issuer=http://127.0.0.1:4444`,
    );

  const overridesOf = (command: Command): ConfigArgs => ({
    overrides: [...(program.opts<{ config: string[] }>().config ?? []), ...(command.opts<{ config?: string[] }>().config ?? [])],
    profile: command.opts<{ profile?: string }>().profile ?? program.opts<{ profile?: string }>().profile,
  });

  withConfigOption(program.command('serve', { isDefault: true }))
    .alias('mcp')
    .description('serve the MCP / codex auth JSON-RPC protocol on stdin/stdout (the default)')
    // An operand that is no command lands here (serve is the default): it is reported below.
    .allowExcessArguments(true)
    .addHelpText('after', '\nRun by an MCP client, which speaks JSON-RPC on its stdin and stdout; logs go to stderr.\n\nExamples:\n  codex-auth-mcp mcp\n  codex-auth-mcp serve -c preferred_auth_method=apikey -c cli_auth_credentials_store=keyring\n  CODEX_HOME=/srv/codex CODEX_AUTH_MCP_LOG=info codex-auth-mcp serve\n  echo \'{"jsonrpc":"2.0","id":1,"method":"getAuthStatus"}\' | codex-auth-mcp mcp')
    .action(async (_options, command: Command) => {
      const [extra] = command.args;
      if (extra !== undefined) {
        const explicit = ['serve', 'mcp'].includes(String(program.args[0]));
        if (explicit) await stop(`${program.args[0]} takes no arguments (got '${extra}'); see codex-auth-mcp serve --help`);
        await unknownCommand(extra);
      }
      const loaded = await loadOrExit(overridesOf(command));
      if (process.stdin.isTTY) process.stderr.write(waitingForAClient(loaded.codexHome));
      serve({ loaded });
    });

  type CommandFn = (loaded: LoadedConfig, options: any) => Promise<number>;
  const run = (load: () => Promise<CommandFn>, willWrite: boolean | 'remove' = false) => async (options: unknown, command: Command) => {
    const loaded = await loadOrExit(overridesOf(command), willWrite);
    process.exitCode = await (await load())(loaded, options);
    await exit();
  };
  withConfigOption(program.command('status'))
    .description('show how you are signed in; exit 0 signed in, 1 signed out, 2 unusable credentials')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nShows the method, email, plan, token expiry, where the credentials are stored (and the file mode), and any problem.\n\nExamples:\n  codex-auth-mcp status\n  codex-auth-mcp status --json\n  CODEX_HOME=/srv/codex codex-auth-mcp status -c cli_auth_credentials_store=keyring')
    .action(run(async () => (await commands()).statusCommand));
  withConfigOption(program.command('login'))
    .description('sign in with ChatGPT in a browser, with a device code, or with an API key read from stdin')
    .option('--device-auth', 'sign in with a code entered on another device (headless, SSH, containers)')
    .addOption(new Option('--with-api-key', 'read an API key from stdin and store it (typed on a terminal, it is not shown)').conflicts('deviceAuth'))
    .addHelpText('after', '\nPrints the URL (or the code) and waits; Ctrl-C cancels the sign-in and frees the callback port.\nExit codes: 0 signed in, 1 sign-in failed (or replaced by a newer one), 2 no usable API key on stdin, 130 cancelled.\n\nExamples:\n  codex-auth-mcp login\n  codex-auth-mcp login --device-auth\n  printenv OPENAI_API_KEY | codex-auth-mcp login --with-api-key\n  codex-auth-mcp login -c auth_issuer=http://127.0.0.1:4444 -c login_callback_port=0')
    .action(run(async () => (await commands()).loginCommand, true));
  withConfigOption(program.command('logout'))
    .description('sign out: revoke the tokens at the issuer, then remove the stored credentials')
    .option('--local', 'only remove them here; do not revoke them at the issuer')
    .addHelpText('after', '\nExamples:\n  codex-auth-mcp logout\n  codex-auth-mcp logout --local\n  CODEX_HOME=/srv/codex codex-auth-mcp logout -c logout_revokes_tokens=false')
    .action(run(async () => (await commands()).logoutCommand, 'remove'));

  // Several accounts: every ChatGPT sign-in to another account adds one; see src/cli/accounts.ts.
  const accounts = program
    .command('accounts')
    .description('the ChatGPT accounts signed in here: list them, switch between them, remove one')
    .addHelpText('after', '\nExamples:\n  codex-auth-mcp accounts list\n  codex-auth-mcp accounts list --json\n  CODEX_HOME=/srv/codex codex-auth-mcp accounts list -c cli_auth_credentials_store=file');
  type AccountCommandFn = (loaded: LoadedConfig, account: string, options: any) => Promise<number>;
  const runWith = (load: () => Promise<AccountCommandFn>) => async (account: string, options: unknown, command: Command) => {
    const loaded = await loadOrExit(overridesOf(command), true);
    process.exitCode = await (await load())(loaded, account, options);
    await exit();
  };
  withConfigOption(accounts.command('list'))
    .description('list the signed-in accounts (email, plan, which is active, when each was last used); never a token')
    .option('--json', "machine-readable output (accountSession/list's shape)")
    .addHelpText('after', '\nExamples:\n  codex-auth-mcp accounts list\n  codex-auth-mcp accounts list --json')
    .action(run(async () => (await accountCommands()).accountsListCommand));
  withConfigOption(accounts.command('switch <account>'))
    .description('make another signed-in account active, without signing in again (<account>: a session id or an email)')
    .option('--workspace <accountId>', 'the workspace to use (default: the one that account is signed in to)')
    .addHelpText('after', '\nExamples:\n  codex-auth-mcp accounts switch ada@example.com\n  codex-auth-mcp accounts switch ada@example.com --workspace org-123\n  codex-auth-mcp accounts switch 7d0c1a5e-0000-4000-8000-000000000000')
    .action(runWith(async () => (await accountCommands()).accountsSwitchCommand));
  withConfigOption(accounts.command('remove <account>'))
    .description('remove one account; removing the active one signs it out and leaves no account active')
    .option('--local', 'only remove it here; do not revoke its tokens at the issuer')
    .option('--keep-tokens', 'the same as --local: the tokens stay valid at the issuer')
    .addHelpText('after', '\nExamples:\n  codex-auth-mcp accounts remove ada@example.com\n  codex-auth-mcp accounts remove ada@example.com --local')
    .action(runWith(async () => (await accountCommands()).accountsRemoveCommand));

  return program;
}

/**
 * A reader that went away (`codex-auth-mcp status | head -1`) ends the output, not the command:
 * the command finishes and exits with its own code, without a stack trace. (The server has its
 * own handler: a client that went away ends it, see transport/stdio.ts.)
 */
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
  if (process.stdout.listenerCount('error') === 1) throw error;
});

const logProblem = logLevelProblem();
if (logProblem) process.stderr.write(`codex-auth-mcp: warning: ${logProblem}\n`);

buildProgram().parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // --help and --version end here too, successfully; every other one is a usage error.
    return exit(error.exitCode === 0 ? 0 : USAGE_ERROR);
  }
  process.stderr.write(`codex-auth-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
  return exit(1);
});
