import type { Change } from './types.js';

/** The store's listeners; one that throws must not keep the others (or the store) from going on. */
export class Changes {
  private readonly listeners: ((change: Change) => void)[] = [];

  add(listener: (change: Change) => void): void {
    this.listeners.push(listener);
  }

  emit(change: Change): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // a listener's failure is its own (a socket that closed meanwhile)
      }
    }
  }
}
