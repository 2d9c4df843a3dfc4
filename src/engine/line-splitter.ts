const MAX_LINE_BYTES = 1 << 20;

/**
 * Cuts a byte stream into lines, holding at most one line in memory. A line
 * longer than 1 MiB is skipped (reported once through `onLongLine`); the raw
 * log keeps its bytes. `consumed` counts the bytes of complete lines handed
 * out (and skipped), so parsing can resume there after a restart.
 */
export class LineSplitter {
  consumed: number;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private skipping = false;

  constructor(
    offset: number,
    private readonly onLine: (line: string) => void,
    private readonly onLongLine: () => void,
  ) {
    this.consumed = offset;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (!this.skipping) {
        this.parts.push(piece);
        this.emit(Buffer.concat(this.parts));
      }
      this.consumed += this.partBytes + piece.length + 1;
      this.parts = [];
      this.partBytes = 0;
      this.skipping = false;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (!this.skipping && this.partBytes + rest.length > MAX_LINE_BYTES) {
      this.onLongLine();
      this.skipping = true;
      this.parts = [];
    }
    if (!this.skipping) this.parts.push(Buffer.from(rest));
    this.partBytes += rest.length;
  }

  /** End of input: a last line without a newline counts too. */
  end(): void {
    if (this.partBytes > 0 && !this.skipping) this.emit(Buffer.concat(this.parts));
    this.consumed += this.partBytes;
    this.parts = [];
    this.partBytes = 0;
  }

  private emit(buf: Buffer): void {
    this.onLine(buf.toString('utf8').replace(/\r$/, ''));
  }
}
