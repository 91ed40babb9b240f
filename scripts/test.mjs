// `npm test`: the type check and the suite at once. The suite's first seconds (making the template
// databases) use one core, so `tsc` costs the run little time beside it; its report, held until
// the suite ends, comes after the suite's own. Arguments go to vitest (`npm test -- test/api`).
import { spawn } from 'node:child_process';

const children = new Set();

function run(command, args, stdio) {
  const child = spawn(command, args, { stdio });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => {
    // Not found, say (run outside npm, without node_modules/.bin on the PATH): a failure, reported.
    child.on('error', (error) => resolve({ code: 1, output: `${command}: ${error.message}\n` }));
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code: code ?? (signal ? 1 : 0), output });
    });
  });
}

// Stopped, the run stops both (vitest's own processes go with it).
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}

const typecheck = run('tsc', ['--noEmit'], ['ignore', 'pipe', 'pipe']);
const suite = await run('vitest', ['run', ...process.argv.slice(2)], 'inherit');
const types = await typecheck;
process.stdout.write(types.output);
console.log(types.code === 0 ? 'Type check (tsc --noEmit): no errors.' : `Type check (tsc --noEmit) failed with exit code ${types.code}.`);
process.exit(suite.code !== 0 ? suite.code : types.code);
