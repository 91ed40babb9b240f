import { benchCommand } from './run.js';

try {
  await benchCommand(process.argv.slice(2));
} catch (error) {
  console.error(`bench: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
}
