/**
 * Top-level config.toml keys that belong to Codex (0.25 to 0.171), not to this server. A key of
 * this list is never reported as a misspelling of one of ours, however close it is: config.toml
 * is Codex's file first, and its keys are ignored here without a word.
 */
export const CODEX_KEYS: ReadonlySet<string> = new Set([
  'analytics', 'approval_policy', 'approvals_reviewer', 'apps', 'base_instructions', 'browser_use', 'chatgpt_base_url',
  'client_search_provider', 'compact_prompt', 'computer_use', 'desktop', 'developer_instructions', 'disable_response_storage',
  'experimental_instructions_file', 'experimental_use_exec_command_tool', 'features', 'file_opener', 
  'hide_agent_reasoning', 'history', 'instructions', 'mcp_oauth_credentials_store', 'mcp_servers', 'model',
  'model_auto_compact_token_limit', 'model_auto_compact_token_limit_scope', 'model_context_window', 'model_max_output_tokens',
  'model_provider', 'model_providers', 'model_reasoning_effort', 'model_reasoning_summary', 'model_supports_reasoning_summaries',
  'model_verbosity', 'notice', 'notify', 'otel', 'profile', 'profiles', 'project_doc_max_bytes', 'projects', 'review_model',
  'sandbox_mode', 'sandbox_workspace_write', 'service_tier', 'shell_environment_policy', 'show_raw_agent_reasoning', 'tools', 'tui',
  'web_search', 'windows_wsl_setup_acknowledged',
]);
