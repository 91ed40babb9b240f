// `npm test`: the type check and the suite at once. The suite's first seconds (making the template
// databases) use one core, so `tsc` costs the run little time beside it; its report, held until
// the suite ends, comes after the suite's own. Arguments go to vitest (`npm test -- test/api`).
import { spawn } from 'node:child_process';

function run(command, args, stdio) {
  const child = spawn(command, args, { stdio, shell: process.platform === 'win32' });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output })));
}

const typecheck = run('tsc', ['--noEmit'], ['ignore', 'pipe', 'pipe']);
const suite = await run('vitest', ['run', ...process.argv.slice(2)], 'inherit');
const types = await typecheck;
process.stdout.write(types.output);
console.log(types.code === 0 ? 'Type check (tsc --noEmit): no errors.' : `Type check (tsc --noEmit) failed with exit code ${types.code}.`);
process.exit(suite.code !== 0 ? suite.code : types.code);
