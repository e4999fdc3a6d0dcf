#!/usr/bin/env node
/**
 * The `codex-auth-mcp` command: `serve` (default; alias `mcp`) speaks JSON-RPC on stdio.
 * `-c key=value` may stand before or after the subcommand, as with `codex`.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { packageInfo } from '../server/package-info.js';
import { serve } from '../server/server.js';
import { accountsListCommand, accountsRemoveCommand, accountsSwitchCommand } from './accounts.js';
import { loginCommand, logoutCommand, statusCommand } from './commands.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** Every command takes `-c key=value`, before or after its name, as codex does. */
const withConfigOption = (command: Command) =>
  command.option('-c, --config <key=value>', 'override a config.toml value (TOML value; repeatable)', collect, []);

export function codexHomeFromEnv(): string {
  const fromEnv = process.env['CODEX_HOME'];
  return fromEnv ? resolve(fromEnv) : join(homedir(), '.codex');
}

/** Loads the config or stops the process at once with exit code 2 and one clear message. */
function loadOrExit(overrides: string[]): LoadedConfig {
  try {
    return loadConfig(codexHomeFromEnv(), overrides);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`codex-auth-mcp: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

function buildProgram(): Command {
  const program = withConfigOption(new Command('codex-auth-mcp'))
    .description('An MCP server (JSON-RPC on stdio) that manages OpenAI / ChatGPT sign-in for the clients that spawn it.')
    .version(packageInfo.version, '-V, --version')
    .addHelpText(
      'after',
      `
Environment:
  CODEX_HOME            where config.toml and auth.json live (default ~/.codex)
  CODEX_AUTH_MCP_LOG    log level on stderr: trace|debug|info|warn|error|silent (default warn)

Examples:
  codex-auth-mcp                                  serve JSON-RPC on stdio
  codex-auth-mcp mcp -c preferred_auth_method=apikey
  codex-auth-mcp status --json
  codex-auth-mcp login --device-auth
  CODEX_HOME=/tmp/h codex-auth-mcp serve -c auth_issuer=http://127.0.0.1:4444`,
    );

  const overridesOf = (command: Command) => [
    ...(program.opts<{ config: string[] }>().config ?? []),
    ...(command.opts<{ config?: string[] }>().config ?? []),
  ];

  withConfigOption(program.command('serve', { isDefault: true }))
    .alias('mcp')
    .description('serve the MCP / codex auth JSON-RPC protocol on stdin/stdout (the default)')
    .action((_options, command: Command) => serve({ loaded: loadOrExit(overridesOf(command)) }));

  const run = (fn: (loaded: LoadedConfig, options: any) => Promise<number>) => async (options: unknown, command: Command) => {
    process.exitCode = await fn(loadOrExit(overridesOf(command)), options);
    process.exit();
  };
  withConfigOption(program.command('status'))
    .description('show how you are signed in; exit 0 signed in, 1 signed out, 2 unusable credentials')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nShows the method, email, plan, token expiry, where the credentials are stored (and the file mode), and any problem.\n\nExamples:\n  codex-auth-mcp status\n  codex-auth-mcp status --json\n  CODEX_HOME=/srv/codex codex-auth-mcp status -c cli_auth_credentials_store=keyring')
    .action(run(statusCommand));
  withConfigOption(program.command('login'))
    .description('sign in with ChatGPT in a browser, with a device code, or with an API key read from stdin')
    .option('--device-auth', 'sign in with a code entered on another device (headless, SSH, containers)')
    .addOption(new Option('--with-api-key', 'read an API key from stdin and store it').conflicts('deviceAuth'))
    .addHelpText('after', '\nPrints the URL (or the code) and waits; Ctrl-C cancels the sign-in and frees the callback port.\nExit codes: 0 signed in, 1 sign-in failed, 2 no API key on stdin, 130 cancelled.\n\nExamples:\n  codex-auth-mcp login\n  codex-auth-mcp login --device-auth\n  printenv OPENAI_API_KEY | codex-auth-mcp login --with-api-key\n  codex-auth-mcp login -c auth_issuer=http://127.0.0.1:4444 -c login_callback_port=0')
    .action(run(loginCommand));
  withConfigOption(program.command('logout'))
    .description('sign out: revoke the tokens at the issuer, then remove the stored credentials')
    .option('--local', 'only remove them here; do not revoke them at the issuer')
    .addHelpText('after', '\nExamples:\n  codex-auth-mcp logout\n  codex-auth-mcp logout --local\n  CODEX_HOME=/srv/codex codex-auth-mcp logout -c logout_revokes_tokens=false')
    .action(run(logoutCommand));

  // Several accounts: every ChatGPT sign-in to another account adds one; see src/cli/accounts.ts.
  const accounts = program.command('accounts').description('the ChatGPT accounts signed in here: list them, switch between them, remove one');
  const runWith = (fn: (loaded: LoadedConfig, account: string, options: any) => Promise<number>) => async (account: string, options: unknown, command: Command) => {
    process.exitCode = await fn(loadOrExit(overridesOf(command)), account, options);
    process.exit();
  };
  withConfigOption(accounts.command('list'))
    .description('list the signed-in accounts (email, plan, which is active, when each was last used); never a token')
    .option('--json', 'machine-readable output (accountSession/list\'s shape)')
    .action(run(accountsListCommand));
  withConfigOption(accounts.command('switch <account>'))
    .description('make another signed-in account active, without signing in again (<account>: a session id or an email)')
    .option('--workspace <accountId>', 'the workspace to use (default: the one that account is signed in to)')
    .action(runWith(accountsSwitchCommand));
  withConfigOption(accounts.command('remove <account>'))
    .description('remove one account; removing the active one signs it out and leaves no account active')
    .option('--local', 'only remove it here; do not revoke the tokens of an active account at the issuer')
    .action(runWith(accountsRemoveCommand));

  return program;
}

buildProgram().parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`codex-auth-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
