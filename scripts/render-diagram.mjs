// Renders a Graphviz DOT file to SVG with Graphviz compiled to WebAssembly
// (@hpcc-js/wasm-graphviz from target/node-tools): no system Graphviz needed.
// Usage: node scripts/render-diagram.mjs IN.dot OUT.svg
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../target/node-tools/', import.meta.url));
const { Graphviz } = await import(require.resolve('@hpcc-js/wasm-graphviz'));
const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/render-diagram.mjs IN.dot OUT.svg');
  process.exit(2);
}
const graphviz = await Graphviz.load();
writeFileSync(output, graphviz.dot(readFileSync(input, 'utf8'), 'svg'));
