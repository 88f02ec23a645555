// MS-MDE2 AdditionalContext ContextItems (protocol.md §4.5). Names repeat (MAC, IMEI), new names
// appear with every RequestVersion and casing is not guaranteed, so this is an ordered multimap
// with case-insensitive lookup that keeps every item, known or not.

export class ContextItems implements Iterable<readonly [string, string]> {
  readonly #items: ReadonlyArray<readonly [string, string]>;

  constructor(items: Iterable<readonly [string, string]> = []) {
    this.#items = Array.from(items, ([name, value]) => [name, value] as const);
  }

  /** First value for `name` (case-insensitive), or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    return this.#items.find(([n]) => n.toLowerCase() === key)?.[1];
  }

  /** Every value for `name` (case-insensitive), in document order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.#items.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get size(): number {
    return this.#items.length;
  }

  /** All items as sent: original names, document order. */
  entries(): Array<[string, string]> {
    return this.#items.map(([n, v]) => [n, v]);
  }

  [Symbol.iterator](): Iterator<readonly [string, string]> {
    return this.#items[Symbol.iterator]();
  }
}
