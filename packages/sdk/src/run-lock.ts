/**
 * The engine has one LLM handler per page. Runs of different handles take turns (runs of the
 * same handle may overlap): `acquire(owner)` resolves when `owner` may install its handler.
 */
export class RunLock {
  private owner: unknown;
  private active = 0;
  private waiters: Array<() => void> = [];

  async acquire(owner: unknown): Promise<() => void> {
    while (this.active > 0 && this.owner !== owner) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.owner = owner;
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.active === 0) {
        const waiting = this.waiters;
        this.waiters = [];
        for (const wake of waiting) wake();
      }
    };
  }
}
