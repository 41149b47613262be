import {
  AlarmFiring,
  ListenerQuiet,
  ListenerShapeInvalid,
  LockLost,
  RestoreRaisesTarget,
  RolloutLocked,
  SwingError,
  TargetUnhealthy,
  TransientFailure,
  ValidationFailed,
  WeightsDrifted,
  WeightsNotApplied,
} from '#domain/errors.ts';

/** What `swing` exits with; scripts branch on these, so they never change meaning. */
export enum ExitCodes {
  /** Done; a watched rollout completed. */
  Ok = 0,
  /** A rollout rolled back, or the controller refused (listener locked, nothing to abort, smoke failed). */
  RolledBackOrRefused = 1,
  /** Bad input or usage: an invalid plan or flag, a missing stack output. Nothing was changed. */
  BadInput = 2,
  /** A rollout halted (drift, a restore that would raise the target's share), or Swing itself failed. */
  HaltedOrInternal = 3,
  /**
   * An AWS call failed: credentials, permissions, throttling, a service error; also `rollback --release-lock`
   * when DescribeExecution fails, since the holder may still run.
   */
  AwsError = 4,
  /** `--watch` gave up after `--max-wait` while the rollout was still running. */
  StillRunning = 5,
  /** `swing local` stopped by Ctrl-C (128 + SIGINT), after printing what it did so far. */
  Interrupted = 130,
}

export const EXIT_CODES_HELP = `Exit codes:
  0  ok (a watched rollout completed)
  1  rolled back, or refused: a rollout holds the listener, nothing to abort or promote,
     a smoke check failed, a confirmation was declined
  2  bad input or usage: an invalid plan or flag, a missing stack output (nothing was changed)
  3  halted (someone changed the weights by hand, or a restore would raise the target's share)
     or an internal error
  4  AWS error: credentials, permissions, throttling, a service error; rollback --release-lock
     when the lock holder's status cannot be learned (nothing is changed)
  5  still running when --max-wait ran out (status --watch, start --watch)
  130  swing local stopped by Ctrl-C (the summary so far is printed)`;

/** A failure the CLI reports as one line and an exit code. */
export class CliFailure extends Error {
  constructor(
    readonly exitCode: ExitCodes,
    message: string,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

interface AwsErrorShape {
  readonly name: string;
  readonly message: string;
  readonly $metadata?: unknown;
  readonly $fault?: string;
}

function isAwsError(error: unknown): error is AwsErrorShape {
  return error instanceof Error && ('$metadata' in error || '$fault' in error);
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

const CREDENTIALS_FIX =
  'configure credentials: `aws configure` or `aws sso login`, set AWS_PROFILE, or pass --profile';

/** Turns any error into one line naming the problem and the fix, and its exit code. */
export function classifyError(error: unknown): { exitCode: ExitCodes; message: string } {
  if (error instanceof CliFailure) return { exitCode: error.exitCode, message: oneLine(error.message) };
  if (error instanceof ValidationFailed) {
    return {
      exitCode: ExitCodes.BadInput,
      message: oneLine(error.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')),
    };
  }
  if (
    error instanceof RolloutLocked ||
    error instanceof ListenerQuiet ||
    error instanceof LockLost ||
    error instanceof AlarmFiring ||
    error instanceof TargetUnhealthy
  ) {
    return { exitCode: ExitCodes.RolledBackOrRefused, message: oneLine(error.message) };
  }
  if (error instanceof TransientFailure) {
    return {
      exitCode: ExitCodes.AwsError,
      message: oneLine(`${error.message}: AWS is throttling or failing, retry in a minute`),
    };
  }
  if (
    error instanceof WeightsDrifted ||
    error instanceof WeightsNotApplied ||
    error instanceof ListenerShapeInvalid ||
    error instanceof RestoreRaisesTarget
  ) {
    return { exitCode: ExitCodes.HaltedOrInternal, message: oneLine(error.message) };
  }
  if (error instanceof SwingError)
    return { exitCode: ExitCodes.HaltedOrInternal, message: oneLine(error.message) };
  return classifyAwsOrUnknown(error);
}

function classifyAwsOrUnknown(error: unknown): { exitCode: ExitCodes; message: string } {
  if (!(error instanceof Error)) {
    return { exitCode: ExitCodes.HaltedOrInternal, message: `internal error: ${oneLine(String(error))}` };
  }
  const { name, message } = error;
  if (/region is missing/i.test(message)) {
    return {
      exitCode: ExitCodes.BadInput,
      message: 'no AWS region configured: pass --region, set AWS_REGION, or set a region in ~/.aws/config',
    };
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return {
      exitCode: ExitCodes.AwsError,
      message: `no usable AWS credentials (${oneLine(message)}): ${CREDENTIALS_FIX}`,
    };
  }
  if (!isAwsError(error)) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
      return {
        exitCode: ExitCodes.AwsError,
        message: `cannot reach AWS (${code}): check the network, proxy settings and --region`,
      };
    }
    return { exitCode: ExitCodes.HaltedOrInternal, message: `internal error: ${name}: ${oneLine(message)}` };
  }
  if (/^(ExpiredToken|ExpiredTokenException|RequestExpired)$/.test(name)) {
    return {
      exitCode: ExitCodes.AwsError,
      message: `AWS credentials expired: refresh them (${CREDENTIALS_FIX})`,
    };
  }
  if (/^(InvalidClientTokenId|UnrecognizedClientException|InvalidSignatureException)$/.test(name)) {
    return {
      exitCode: ExitCodes.AwsError,
      message: `AWS rejected the credentials (${name}): ${CREDENTIALS_FIX}`,
    };
  }
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/.test(name)) {
    return {
      exitCode: ExitCodes.AwsError,
      message: `access denied (${oneLine(message)}): use a role allowed to operate Swing, e.g. --profile <admin>`,
    };
  }
  if (name === 'ResourceNotFoundException') {
    return {
      exitCode: ExitCodes.BadInput,
      message: `${oneLine(message)} (${name}): check --stack-name, --region and any output override flags`,
    };
  }
  return {
    exitCode: ExitCodes.AwsError,
    message: `AWS error ${name}: ${oneLine(message)}`,
  };
}
