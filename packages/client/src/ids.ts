/** A fresh client message id: a UUID where the platform has one (browsers, Node), else time and randomness (Hermes). */
export function newClientMessageId(): string {
  const uuid = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto?.randomUUID?.();
  if (uuid) return uuid;
  const random = () => Math.floor(Math.random() * 2 ** 32).toString(36);
  return `${Date.now().toString(36)}-${random()}-${random()}`;
}
