import { EventEmitter } from 'node:events';
import xterm from '@xterm/headless';
import stripAnsi from 'strip-ansi';

/**
 * A terminal as a person sees it: @xterm/headless interprets every escape sequence the view writes (cursor
 * moves, erases, wrapping, reflow on resize), so the test reads the screen, not the bytes.
 */
export class FakeTerminal extends EventEmitter {
  columns: number;
  rows: number;
  readonly screen: InstanceType<typeof xterm.Terminal>;
  /** Each write with the width in effect when it was written. */
  readonly writes: { text: string; columns: number }[] = [];
  private pending: Promise<void> = Promise.resolve();

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
    this.screen = new xterm.Terminal({
      cols: columns,
      rows,
      scrollback: 5000,
      allowProposedApi: true,
      convertEol: true,
    });
  }

  write = (text: string): void => {
    this.writes.push({ text, columns: this.columns });
    this.pending = this.pending.then(
      () =>
        new Promise<void>((resolve) =>
          this.screen.write(text, () => {
            if (this.snapshots) this.screens.push(this.visible());
            resolve();
          }),
        ),
    );
  };

  /**
   * As a real terminal: every byte written so far is on screen, then the screen reflows, then the program
   * hears SIGWINCH. No write can come between the last check and the resize: both run in one go.
   */
  async resize(columns: number): Promise<void> {
    let drained: Promise<void>;
    do {
      drained = this.pending;
      await drained;
    } while (drained !== this.pending);
    this.screen.resize(columns, this.rows);
    this.columns = columns;
    this.emit('resize');
  }

  async settled(): Promise<void> {
    await this.pending;
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
