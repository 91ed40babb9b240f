import { expect } from 'vitest';

/** The SDK error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  return promise.then(
    () => expect.fail('the request should have been refused'),
    (error: { status: number; message: string }) => error,
  );
}

/** `promise` is refused with a 400 whose message names `field` (`field: problem`). */
export async function expect400(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await rejection(promise);
  expect(error.status).toBe(400);
  expect(error.message).toContain(`${field}:`);
}
