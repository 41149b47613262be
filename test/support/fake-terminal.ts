import { EventEmitter } from 'node:events';
import xterm from '@xterm/headless';
import stripAnsi from 'strip-ansi';

/** The one part of xterm's core this fake needs: a write parsed before the call returns. */
type SyncCore = { writeSync(data: string): void };

/**
 * A terminal as a person sees it: @xterm/headless interprets every escape sequence the view writes (cursor
 * moves, erases, wrapping, reflow on resize), so the test reads the screen, not the bytes.
 *
 * Each write is on screen before `write` returns (xterm's core writeSync; the public write parses later, on a
 * timer). So at any moment between two writes every byte is on screen, and a resize never has to wait for a
 * busy live view to go quiet, which a view redrawing every 100 ms never does.
 */
export class FakeTerminal extends EventEmitter {
  columns: number;
  rows: number;
  readonly screen: InstanceType<typeof xterm.Terminal>;
  /** Each write with the width in effect when it was written. */
  readonly writes: { text: string; columns: number }[] = [];
  private readonly core: SyncCore;
  private resizing: Promise<string[]> | undefined;

  /** With `snapshots`: the visible screen after each write, as a person would have seen it then. */
  readonly screens: string[][] = [];

  constructor(
    columns: number,
    rows: number,
    private readonly snapshots = false,
  ) {
    super();
    this.columns = columns;
    this.rows = rows;
    // convertEol: the tty driver turns \n into \r\n (ONLCR), which libuv keeps on even in raw mode.
    // logLevel off: writeSync warns once that it is "unreliable", which concerns async parser hooks (none here).
    this.screen = new xterm.Terminal({
      cols: columns,
      rows,
      scrollback: 5000,
      allowProposedApi: true,
      convertEol: true,
      logLevel: 'off',
    });
    const core = (this.screen as unknown as { _core?: Partial<SyncCore> })._core;
    if (typeof core?.writeSync !== 'function')
      throw new Error(
        'FakeTerminal: @xterm/headless no longer has _core.writeSync; update test/support/fake-terminal.ts',
      );
    this.core = core as SyncCore;
  }

  write = (text: string): void => {
    this.writes.push({ text, columns: this.columns });
    this.core.writeSync(text);
    if (this.snapshots) this.screens.push(this.visible());
  };

  /**
   * As a real terminal: every byte written so far is on screen, then the screen reflows, then the program
   * hears SIGWINCH (its resize handlers run, and what they write is on screen when this returns).
   * Call it outside the program's own write, as a signal arrives: `resizeOnceShown` does.
   */
  resize(columns: number): void {
    this.screen.resize(columns, this.rows);
    this.columns = columns;
    this.emit('resize');
  }

  /**
   * Resizes to `columns` on the first turn of the event loop after `shown` is on the visible screen, so while the
   * program is still drawing. Call it after each write; the first call that sees `shown` returns the screen as
   * it stands once the program has redrawn at the new width, every later call returns that same promise.
   */
  resizeOnceShown(shown: string, columns: number): Promise<string[]> | undefined {
    if (this.resizing) return this.resizing;
    if (!this.visible().some((row) => row.includes(shown))) return undefined;
    this.resizing = new Promise((resolve) =>
      setImmediate(() => {
        this.resize(columns);
        resolve(this.visible());
      }),
    );
    return this.resizing;
  }

  /** The rows on screen now, as text. */
  visible(): string[] {
    const buffer = this.screen.buffer.active;
    const out: string[] = [];
    for (let row = buffer.baseY; row < buffer.baseY + this.rows; row += 1)
      out.push(buffer.getLine(row)?.translateToString(true) ?? '');
    return out;
  }

  /** Every line of the buffer, scrollback included, as text. */
  lines(): string[] {
    const buffer = this.screen.buffer.active;
    const out: string[] = [];
    for (let row = 0; row < buffer.length; row += 1)
      out.push(buffer.getLine(row)?.translateToString(true) ?? '');
    while (out.length > 0 && out.at(-1) === '') out.pop();
    return out;
  }
}

/** The visible lines of each write: cursor moves and erases split nothing, newlines do. */
export function writtenLines(writes: FakeTerminal['writes']): { line: string; columns: number }[] {
  return writes.flatMap(({ text, columns }) =>
    stripAnsi(text)
      .split('\n')
      .map((line) => ({ line, columns })),
  );
}
