/** The slice of a logger the domain needs; Powertools' Logger and the local mode's logger both fit. */
export interface LogPort {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const silentLog: LogPort = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
