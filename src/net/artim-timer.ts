// A restartable one-shot timer (the ARTIM timer of PS3.8 9.1.5, also used for the idle
// and response timeouts). No polling: one setTimeout, refreshed in place.

export class ArtimTimer {
  private timer: NodeJS.Timeout | undefined;

  /** `ms` <= 0 disables the timer. */
  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Start, or restart if already running. */
  start(): void {
    if (this.ms <= 0) return;
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onExpire();
    }, this.ms);
    this.timer.unref();
  }

  /** Push the deadline back if running (cheap: no new timer). */
  refresh(): void {
    this.timer?.refresh();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
