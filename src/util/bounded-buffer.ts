import { SizeLimitError } from './errors.js';

/**
 * Accumulates chunks up to a hard byte limit. Every reader of a peer's output
 * goes through one of these, so a flooding peer costs at most `limit` bytes.
 */
export class BoundedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    readonly limit: number,
    private readonly what: string,
  ) {}

  get length(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (this.size + chunk.length > this.limit) {
      throw new SizeLimitError(`${this.what} exceeds the limit of ${this.limit} bytes`);
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  toBuffer(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  toString(encoding: BufferEncoding = 'utf8'): string {
    return this.toBuffer().toString(encoding);
  }
}
