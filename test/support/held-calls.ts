type Args<F> = F extends (...args: infer A) => unknown ? A : never;

/**
 * `real` with its `method` held: a call that `holds` (every call by default) waits until `release()`, as a
 * throttled call does under the SDK's retries, then goes through; `stalled` is true from the first held call on.
 * Every other member is `real`'s own.
 */
export function holdingCalls<T extends object, K extends keyof T>(
  real: T,
  method: K,
  holds: (...args: Args<T[K]>) => boolean = () => true,
) {
  let open: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    open = resolve;
  });
  const held = {
    stalled: false,
    release: () => open(),
    port: new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        if (property !== method) return value.bind(target);
        return async (...args: Args<T[K]>) => {
          if (holds(...args)) {
            held.stalled = true;
            await released;
          }
          return value.apply(target, args);
        };
      },
    }),
  };
  return held;
}
