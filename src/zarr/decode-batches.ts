/**
 * Decoding the chunks of one read in batches as they arrive, into the
 * read's output. Each fetched object (a chunk, or the part of a shard the
 * read needs) joins the current batch; a batch is handed to the codec
 * workers ({@link decodeFrames}) once it holds `batchBytes` of decoded
 * data, so that small chunks travel to a worker together and large shards
 * one by one, while later objects are still being fetched. Each object
 * holds its decoded size of the process-wide read budget (./read-budget.ts)
 * from before its fetch until its batch is decoded: encoded bytes never
 * pile up in memory faster than the workers decode them.
 *
 * No deadlock: a reader whose next object does not fit in the budget
 * first hands its current batch over, so that every byte of the budget is
 * held by a fetch in progress or a batch being decoded.
 *
 * @module
 */

import type { CodecDescriptor } from "../codecs/index.js";
import { decodeFrames, type Frame } from "./compression/index.js";
import { readBudgetAdmits, takeReadBudget } from "./read-budget.js";

/** Options of a {@link DecodeBatches}. */
export interface DecodeBatchesOptions {
  /** The read's bytes-to-bytes chain over `bytes` (see `rawByteChain`). */
  readonly chain: CodecDescriptor[];
  /** The read's output, as bytes: frames say where they go in it. */
  readonly out: Uint8Array;
  /** Bytes per element (for byte order). */
  readonly itemSize: number;
  /** Decoded bytes at which a batch is handed to the workers. */
  readonly batchBytes: number;
  /** Tasks one batch may be split into (several workers on one large object). */
  readonly maxTasks: number;
  readonly signal?: AbortSignal;
}

/** A frame of one object, before it is given its index in a batch's sources. */
export type ObjectFrame = Omit<Frame, "source"> & { readonly source: Uint8Array };

/** The batches of one read; call {@link DecodeBatches.read} per object, then {@link DecodeBatches.finish}. */
export class DecodeBatches {
  readonly #opts: DecodeBatchesOptions;
  #sources: Uint8Array[] = [];
  #index = new Map<Uint8Array, number>();
  #frames: Frame[] = [];
  #bytes = 0;
  #releases: Array<() => void> = [];
  readonly #pending: Promise<void>[] = [];
  #failure: { error: unknown } | undefined;

  constructor(opts: DecodeBatchesOptions) {
    this.#opts = opts;
  }

  /**
   * Takes `estimate` bytes of the read budget (handing the current batch
   * over first if they do not fit now), then fetches one object with
   * `fetch` and adds the frames it returns to the current batch.
   *
   * @throws what `fetch` throws, or the signal's reason.
   */
  async read(estimate: number, fetch: () => Promise<readonly ObjectFrame[]>): Promise<void> {
    this.#throwIfFailed();
    if (!readBudgetAdmits(estimate)) this.#flush();
    const ticket = await takeReadBudget(estimate, this.#opts.signal);
    let frames: readonly ObjectFrame[];
    try {
      frames = await fetch();
    } catch (err) {
      ticket.release();
      throw err;
    }
    if (frames.length === 0) {
      ticket.release();
      return;
    }
    // Hold what was fetched, not the estimate: a shard that compressed well lets the next read in.
    ticket.resize([...new Set(frames.map((f) => f.source))].reduce((n, src) => n + src.byteLength, 0));
    for (const f of frames) {
      let s = this.#index.get(f.source);
      if (s === undefined) {
        s = this.#sources.length;
        this.#sources.push(f.source);
        this.#index.set(f.source, s);
      }
      this.#frames.push({ ...f, source: s });
      this.#bytes += f.to - f.from;
    }
    this.#releases.push(() => ticket.release());
    if (this.#bytes >= this.#opts.batchBytes) this.#flush();
  }

  /**
   * Hands the last batch over and waits for every batch.
   *
   * @throws the first decoding failure (a CodecError naming the chunk).
   */
  async finish(): Promise<void> {
    this.#flush();
    await Promise.all(this.#pending);
    this.#throwIfFailed();
  }

  /** Waits for the batches handed over, ignoring their failures (after a failed fetch). */
  async settle(): Promise<void> {
    await Promise.all(this.#pending);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  #flush(): void {
    if (this.#frames.length === 0) return;
    const { chain, out, itemSize, maxTasks, signal } = this.#opts;
    const sources = this.#sources;
    const frames = this.#frames;
    const releases = this.#releases;
    this.#sources = [];
    this.#index = new Map();
    this.#frames = [];
    this.#bytes = 0;
    this.#releases = [];
    const decoding = decodeFrames(chain, sources, frames, out.length, {
      itemSize,
      // Store reads return fresh bytes: hand them over.
      transfer: true,
      into: out,
      maxTasks,
      ...(signal === undefined ? {} : { signal }),
    })
      .then(
        () => undefined,
        (error: unknown) => {
          this.#failure ??= { error };
        },
      )
      .finally(() => {
        for (const release of releases) release();
      });
    this.#pending.push(decoding);
  }
}
