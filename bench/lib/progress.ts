const started = Date.now();

/** Progress for the person watching: stderr, so that stdout carries only the JSON result. */
export function progress(message: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}
