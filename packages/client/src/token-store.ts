import type { UserDto } from './protocol.js';

/** A signed-in session as the app keeps it between launches. */
export interface StoredSession {
  user: UserDto;
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ms since the epoch, by this device's clock). */
  accessExpiresAt: number;
  /** When to rotate ahead of that expiry (ms since the epoch). */
  refreshAt: number;
}

/** Where the session lives: memory, localStorage, AsyncStorage, expo-secure-store... */
export interface TokenStore {
  load(): Promise<StoredSession | null>;
  save(session: StoredSession): Promise<void>;
  clear(): Promise<void>;
}

/** Keeps the session for the life of the page or process only. */
export function memoryTokenStore(): TokenStore {
  let current: StoredSession | null = null;
  return {
    load: async () => current,
    save: async (session) => void (current = session),
    clear: async () => void (current = null),
  };
}

/**
 * A string key-value store: the browser's localStorage and React Native's AsyncStorage both fit
 * (for expo-secure-store pass `{ getItem: getItemAsync, setItem: setItemAsync, removeItem: deleteItemAsync }`).
 */
export interface KeyValueStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

export function keyValueTokenStore(storage: KeyValueStorage, key = 'call-app.session'): TokenStore {
  return {
    async load() {
      const text = await storage.getItem(key);
      if (!text) return null;
      try {
        return JSON.parse(text) as StoredSession;
      } catch {
        return null;
      }
    },
    save: async (session) => storage.setItem(key, JSON.stringify(session)),
    clear: async () => storage.removeItem(key),
  };
}
