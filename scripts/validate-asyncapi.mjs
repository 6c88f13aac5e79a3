// Validates an AsyncAPI document with the AsyncAPI project's own parser
// (@asyncapi/parser, installed by `make node-tools` into target/node-tools).
// Prints every diagnostic; exits 1 on any error, 2 on bad usage.
//
// usage: node scripts/validate-asyncapi.mjs FILE
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/validate-asyncapi.mjs FILE');
  process.exit(2);
}
const require = createRequire(new URL('../target/node-tools/', import.meta.url));
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');

const { document, diagnostics } = await new Parser().parse(readFileSync(file, 'utf8'), { source: file });
const names = { [DiagnosticSeverity.Error]: 'error', [DiagnosticSeverity.Warning]: 'warning' };
let errors = 0;
for (const d of diagnostics) {
  const severity = names[d.severity] ?? 'note';
  if (d.severity === DiagnosticSeverity.Error) errors += 1;
  console.log(`${file}: ${severity} ${d.code} at ${d.path.join('.') || '/'}: ${d.message}`);
}
if (!document || errors > 0) {
  console.error(`${file}: ${errors} error(s): not a valid AsyncAPI document`);
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI ${document.version()}: ${document.channels().length} channels, ` +
  `${document.operations().length} operations, ${document.messages().length} messages`);
