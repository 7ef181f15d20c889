/**
 * Who holds what, by key: the first claim of a key wins and stays until released. One process keeps
 * them in memory; several share them in Redis.
 */
export interface Claims {
  /** Claims `key` for `holder` unless someone holds it already; resolves with whoever holds it now. */
  claim(key: string, holder: string): Promise<string>;
  holderOf(key: string): Promise<string | undefined>;
  /** Releases `key` if `holder` still holds it. */
  release(key: string, holder: string): Promise<void>;
  /** Hands `key` from `holder` to `successor`, if `holder` still holds it. */
  pass(key: string, holder: string, successor: string): Promise<void>;
}

export class InMemoryClaims implements Claims {
  private readonly holders = new Map<string, string>();

  async claim(key: string, holder: string): Promise<string> {
    const current = this.holders.get(key);
    if (current !== undefined) return current;
    this.holders.set(key, holder);
    return holder;
  }

  async holderOf(key: string): Promise<string | undefined> {
    return this.holders.get(key);
  }

  async release(key: string, holder: string): Promise<void> {
    if (this.holders.get(key) === holder) this.holders.delete(key);
  }

  async pass(key: string, holder: string, successor: string): Promise<void> {
    if (this.holders.get(key) === holder) this.holders.set(key, successor);
  }
}
