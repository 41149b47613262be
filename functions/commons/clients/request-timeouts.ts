/**
 * What every SDK client of the functions sets: a hung call (a connection never made, an answer never sent)
 * fails as a TimeoutError, which Swing classifies as transient, instead of running the Lambda into its own
 * timeout. Three attempts of at most 2 s to connect and 5 s to answer take 21 s at worst, with the SDK's
 * back-off, within the shortest function timeout (30 s); the state machine's Retry decides what comes next.
 */
export const SDK_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
} as const;
