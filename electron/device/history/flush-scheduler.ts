/**
 * Batches writes off the path that answers the UI: callers mark work pending and return at once; the work
 * runs once per batch, after a short delay (so that a burst of messages becomes one transaction), or at once
 * when the batch is full, or when `flush()` is called (reads that must see the batch, shutdown).
 */

/** Options of a `FlushScheduler`. */
export interface FlushSchedulerOptions {
  /** Runs the pending batch; may throw (the error goes to `onError`, or out of `flush()`). */
  run: () => void;
  /** How long a first pending write may wait for others, ms. Default 5. */
  delayMs?: number;
  /** Errors of timer-driven runs (nothing is thrown from a timer). */
  onError: (error: unknown) => void;
}

/** A coalescing timer around one flush function. */
export class FlushScheduler {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly delayMs: number;

  constructor(private readonly options: FlushSchedulerOptions) {
    this.delayMs = options.delayMs ?? 5;
  }

  /** True when a run is scheduled and has not happened yet. */
  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  /** Note that work is pending: schedule a run unless one is already due. `urgent`: run on the next tick. */
  schedule(urgent = false): void {
    if (this.timer !== undefined && !urgent) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.options.run();
      } catch (error) {
        this.options.onError(error);
      }
    }, urgent ? 0 : this.delayMs);
    this.timer.unref?.();
  }

  /** Run now (synchronously) and cancel the scheduled run. Throws what the run throws. */
  flush(): void {
    this.cancel();
    this.options.run();
  }

  /** Cancel a scheduled run without running it. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
