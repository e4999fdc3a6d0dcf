/**
 * The floor: the least a Node stdio JSON-RPC server can do per request (split lines, parse, answer
 * a constant, batch writes per turn). No validation, no state. Our server cannot beat this.
 */
const pending: string[] = [];
let scheduled = false;
let carry = '';

function flush(): void {
  scheduled = false;
  process.stdout.write(`${pending.join('\n')}\n`);
  pending.length = 0;
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  const lines = (carry + chunk).split('\n');
  carry = lines.pop()!;
  for (const line of lines) {
    if (!line) continue;
    const { id } = JSON.parse(line) as { id: unknown };
    pending.push(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"authMethod":"apikey","preferredAuthMethod":"chatgpt"}}`);
  }
  if (!scheduled && pending.length > 0) {
    scheduled = true;
    setImmediate(flush);
  }
});
process.stdin.on('end', () => process.exit(0));
