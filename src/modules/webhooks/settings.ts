/** How webhooks are delivered; `ServerOptions.webhooks` and the `ALLOT_WEBHOOK_*` variables override the defaults. */
export interface WebhookSettings {
  /** Attempts a new delivery gets before it fails; a manual retry grants this many more. */
  maxAttempts: number;
  /** How long one attempt may take, until the endpoint's answer's status line arrives. */
  timeoutMs: number;
  /** The un-jittered wait after the first failed attempt; it doubles after each further one. */
  retryBaseMs: number;
  /** The longest wait between two attempts (Metronome's is 15 minutes). */
  retryMaxMs: number;
  /** How often the worker looks for due deliveries when nothing told it of new ones. */
  pollIntervalMs: number;
  /**
   * Whether endpoints may be loopback, private, link-local or cloud metadata addresses (local
   * development and tests); otherwise they are refused at creation and again at every attempt.
   */
  allowPrivateAddresses: boolean;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  maxAttempts: 12,
  timeoutMs: 10_000,
  retryBaseMs: 2_000,
  retryMaxMs: 15 * 60_000,
  pollIntervalMs: 500,
  allowPrivateAddresses: false,
};

